//! The rows of a profile's page: a setting's row (a choice, a switch or an entry, with its
//! "Changed" mark and reset, or "(inherited)", and its error), and the small parts rows share.

use crate::i18n::{fill, gettext};
use crate::page::{Output, Page};
use crate::sidebar::glib_escape;
use nestbox::settings::{self, Change, Kind, ProfileSettings, Value};
use relm4::adw::prelude::*;
use relm4::{adw, gtk, ComponentSender};

pub fn group(title: &str) -> adw::PreferencesGroup {
    adw::PreferencesGroup::builder()
        .title(glib_escape(title))
        .build()
}

pub fn button(icon: &str, tooltip: &str) -> gtk::Button {
    let b = gtk::Button::from_icon_name(icon);
    b.set_tooltip_text(Some(tooltip));
    b.set_valign(gtk::Align::Center);
    b.add_css_class("flat");
    b
}

/// The "changed here" mark and the row's reset, or "inherited".
fn state_suffix(
    row: &impl IsA<adw::PreferencesRow>,
    changed: bool,
    id: &'static str,
    sender: &ComponentSender<Page>,
) -> Option<gtk::Widget> {
    let _ = row;
    if !changed {
        return None;
    }
    let bx = gtk::Box::new(gtk::Orientation::Horizontal, 4);
    let label = gtk::Label::new(Some(&gettext("Changed")));
    label.add_css_class("caption");
    label.add_css_class("accent");
    label.set_valign(gtk::Align::Center);
    bx.append(&label);
    let reset = button(
        "edit-undo-symbolic",
        &gettext("Reset to the inherited value"),
    );
    let s = sender.clone();
    reset.connect_clicked(move |_| {
        if let Some(setting) = settings::find(id) {
            let _ = s.output(Output::Change(Change::Reset(setting)));
        }
    });
    bx.append(&reset);
    Some(bx.upcast())
}

pub fn setting_row(
    shown: &ProfileSettings,
    id: &'static str,
    error: Option<String>,
    sender: &ComponentSender<Page>,
) -> gtk::Widget {
    let setting = settings::find(id).expect("a known setting");
    let (title, description) = crate::words::words(id);
    let changed = shown.changed(setting);
    let value = shown.value(setting);
    let subtitle = match &error {
        Some(m) => m.clone(),
        None if changed => description.clone(),
        None => fill("{what} (inherited)", &[("what", &description)]),
    };
    let row: gtk::Widget = match setting.kind {
        Kind::Choice(words) => {
            let labels: Vec<String> = words
                .iter()
                .map(|w| crate::words::choice_label(w))
                .collect();
            let refs: Vec<&str> = labels.iter().map(String::as_str).collect();
            let model = gtk::StringList::new(&refs);
            // Plain text: a combo row shows its subtitle unparsed in adw 1.2.
            let row = adw::ComboRow::builder()
                .use_markup(false)
                .title(title.as_str())
                .subtitle(subtitle.as_str())
                .model(&model)
                .factory(&whole_labels(false))
                .list_factory(&whole_labels(true))
                .build();
            let now = words.iter().position(|w| *w == value.word()).unwrap_or(0);
            row.set_selected(now as u32);
            if let Some(w) = state_suffix(&row, changed, id, sender) {
                row.add_suffix(&w);
            }
            let s = sender.clone();
            row.connect_selected_notify(move |r| {
                let i = r.selected() as usize;
                if i != now {
                    if let Some(w) = words.get(i) {
                        let _ = s.output(Output::Change(Change::Set(
                            setting,
                            Value::Word(w.to_string()),
                        )));
                    }
                }
            });
            row.upcast()
        }
        Kind::Switch => {
            let row = adw::ActionRow::builder()
                .title(glib_escape(&title))
                .subtitle(glib_escape(&subtitle))
                .build();
            let on = value == Value::Switch(true);
            let switch = gtk::Switch::builder()
                .active(on)
                .valign(gtk::Align::Center)
                .build();
            if let Some(w) = state_suffix(&row, changed, id, sender) {
                row.add_suffix(&w);
            }
            row.add_suffix(&switch);
            row.set_activatable_widget(Some(&switch));
            let s = sender.clone();
            switch.connect_active_notify(move |sw| {
                if sw.is_active() != on {
                    let _ = s.output(Output::Change(Change::Set(
                        setting,
                        Value::Switch(sw.is_active()),
                    )));
                }
            });
            row.upcast()
        }
        Kind::Text | Kind::Number => {
            let title = match &error {
                Some(m) => format!("{title}: {m}"),
                None if changed => title.clone(),
                None => fill("{what} (inherited)", &[("what", &title)]),
            };
            let row = adw::EntryRow::builder()
                .title(glib_escape(&title))
                .show_apply_button(true)
                .build();
            row.set_tooltip_text(Some(&description));
            row.set_text(value.word());
            if error.is_some() {
                row.add_css_class("error");
            }
            if let Some(w) = state_suffix(&row, changed, id, sender) {
                row.add_suffix(&w);
            }
            let s = sender.clone();
            row.connect_apply(move |r| {
                let _ = s.output(Output::Change(Change::Set(
                    setting,
                    Value::Word(r.text().to_string()),
                )));
            });
            row.upcast()
        }
    };
    row.set_widget_name(id);
    row
}

pub fn inherited() -> gtk::Label {
    let l = gtk::Label::new(Some(&gettext("Inherited")));
    l.add_css_class("dim-label");
    l.add_css_class("caption");
    l
}

/// Labels that are never cut short, for a combo row's choices (the default ones are ellipsized,
/// and a long subtitle beside them left "N..." where the row meant "None"); in its list, with a
/// check mark on the one chosen, as the default ones have.
fn whole_labels(in_list: bool) -> gtk::SignalListItemFactory {
    let factory = gtk::SignalListItemFactory::new();
    factory.connect_setup(move |_, item| {
        let Some(item) = item.downcast_ref::<gtk::ListItem>() else {
            return;
        };
        let line = gtk::Box::new(gtk::Orientation::Horizontal, 6);
        let label = gtk::Label::new(None);
        label.set_xalign(0.0);
        line.append(&label);
        if in_list {
            let check = gtk::Image::from_icon_name("object-select-symbolic");
            item.bind_property("selected", &check, "opacity")
                .transform_to(|_, selected: bool| Some(if selected { 1.0 } else { 0.0 }))
                .sync_create()
                .build();
            line.append(&check);
        }
        item.set_child(Some(&line));
    });
    factory.connect_bind(|_, item| {
        let Some(item) = item.downcast_ref::<gtk::ListItem>() else {
            return;
        };
        let text = item
            .item()
            .and_downcast::<gtk::StringObject>()
            .map(|s| s.string());
        let label = item
            .child()
            .and_then(|line| line.first_child())
            .and_downcast::<gtk::Label>();
        if let (Some(label), Some(text)) = (label, text) {
            label.set_text(&text);
        }
    });
    factory
}
