//! Timings for the benchmarks (scripts/bench-manager), when NESTBOX_MANAGER_BENCH is set: the
//! time from the start of main to the first frame that shows the profiles, and the work a change
//! of the search text takes until the frame that shows its result, printed on stderr. With the value `exit`,
//! the manager quits after that first frame, so that hyperfine can time whole starts.

use relm4::gtk;
use relm4::gtk::prelude::*;
use std::sync::OnceLock;
use std::time::Instant;

static START: OnceLock<Instant> = OnceLock::new();

/// Note the start (first thing in main).
pub fn start() {
    START.get_or_init(Instant::now);
}

fn mode() -> Option<String> {
    std::env::var("NESTBOX_MANAGER_BENCH").ok()
}

/// Once the next frame `widget` is painted in has ended, call `then` with the time that frame
/// began (its before-paint phase) and the time it ended.
fn after_next_frame(widget: &impl IsA<gtk::Widget>, then: impl FnOnce(Instant, Instant) + 'static) {
    let Some(clock) = widget.frame_clock() else {
        return;
    };
    let began = std::rc::Rc::new(std::cell::Cell::new(None::<Instant>));
    let handlers = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let b = began.clone();
    let before = clock.connect_before_paint(move |_| {
        if b.get().is_none() {
            b.set(Some(Instant::now()));
        }
    });
    let (c, h) = (clock.clone(), handlers.clone());
    let then = std::cell::Cell::new(Some(then));
    let after = clock.connect_after_paint(move |_| {
        let end = Instant::now();
        for id in h.borrow_mut().drain(..) {
            c.disconnect(id);
        }
        if let Some(then) = then.take() {
            then(began.get().unwrap_or(end), end);
        }
    });
    handlers.borrow_mut().extend([before, after]);
    widget.queue_draw();
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The profiles were just handed to the sidebar.
pub fn profiles_shown(widget: &impl IsA<gtk::Widget>) {
    let Some(mode) = mode() else { return };
    let Some(start) = START.get().copied() else {
        return;
    };
    let widget = widget.clone().upcast::<gtk::Widget>();
    // Idle: after the sidebar made its rows.
    gtk::glib::idle_add_local_once(move || {
        after_next_frame(&widget, move |_, end| {
            eprintln!("first-frame {:.1} ms", ms(end - start));
            if mode == "exit" {
                std::process::exit(0);
            }
        });
    });
}

/// The search text changed at `started` and the list is filtered: print the work it took (the
/// filtering, and the layout and paint of the frame that shows the result) and the time until
/// that frame ended. The frame clock ticks at the display's rate, so the frame comes at the next
/// tick; the change is shown within one frame when its work fits in one.
pub fn searched(widget: &impl IsA<gtk::Widget>, started: Instant) {
    if mode().is_none() {
        return;
    }
    let handled = started.elapsed();
    after_next_frame(widget, move |began, end| {
        let frame = end - began;
        eprintln!(
            "search-frame {:.1} ms work (filter {:.1}, frame {:.1}), shown {:.1} ms after the change",
            ms(handled + frame),
            ms(handled),
            ms(frame),
            ms(end - started)
        );
    });
}

/// A phase's time since start, in bench mode.
pub fn mark(what: &str) {
    if mode().is_some() {
        if let Some(start) = START.get() {
            eprintln!("{what} at {:.1} ms", ms(start.elapsed()));
        }
    }
}
