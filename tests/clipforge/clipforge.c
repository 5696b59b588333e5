/* A client of a nested display that tries to make nestbox's clipboard bridge write the host's
 * CLIPBOARD when the profile says clipboard = "in" (pastejacking): it sets the property the bridge
 * reads on the bridge's own window and sends it a SelectionNotify it never asked for, as text and
 * then in format 32. Run inside a sandbox by tests/plumbing.rs; prints what it did. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xcb/xcb.h>

static xcb_atom_t atom(xcb_connection_t *c, const char *name) {
    xcb_intern_atom_reply_t *r =
        xcb_intern_atom_reply(c, xcb_intern_atom(c, 0, strlen(name), name), NULL);
    xcb_atom_t a = r ? r->atom : XCB_ATOM_NONE;
    free(r);
    return a;
}

static void forge(xcb_connection_t *c, xcb_window_t w, xcb_atom_t clipboard, xcb_atom_t prop,
                  xcb_atom_t utf8, unsigned char format, const void *data, unsigned len) {
    xcb_change_property(c, XCB_PROP_MODE_REPLACE, w, prop, utf8, format, len, data);
    xcb_selection_notify_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.response_type = XCB_SELECTION_NOTIFY;
    ev.time = XCB_CURRENT_TIME;
    ev.requestor = w;
    ev.selection = clipboard;
    ev.target = utf8;
    ev.property = prop;
    xcb_send_event(c, 0, w, XCB_EVENT_MASK_NO_EVENT, (const char *)&ev);
    xcb_flush(c);
}

int main(void) {
    xcb_connection_t *c = xcb_connect(NULL, NULL);
    if (xcb_connection_has_error(c)) {
        puts("no display");
        return 1;
    }
    xcb_atom_t clipboard = atom(c, "CLIPBOARD"), prop = atom(c, "NESTBOX_CLIPBOARD"),
               utf8 = atom(c, "UTF8_STRING");
    xcb_window_t owner = XCB_NONE;
    for (int i = 0; i < 100 && owner == XCB_NONE; i++) {
        xcb_get_selection_owner_reply_t *r =
            xcb_get_selection_owner_reply(c, xcb_get_selection_owner(c, clipboard), NULL);
        owner = r ? r->owner : XCB_NONE;
        free(r);
        if (owner == XCB_NONE)
            usleep(50000);
    }
    if (owner == XCB_NONE) {
        puts("no clipboard owner");
        return 1;
    }
    const char *text = "rm -rf ~ # pasted from the sandbox";
    forge(c, owner, clipboard, prop, utf8, 8, text, strlen(text));
    usleep(300000);
    const unsigned int words[4] = {1, 2, 3, 4};
    forge(c, owner, clipboard, prop, utf8, 32, words, 4);
    usleep(300000);
    puts("forged");
    xcb_disconnect(c);
    return 0;
}
