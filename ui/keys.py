"""Keys that always work: the `?` overlay of every key of a page, and the focus given back to the page.

Streamlit shortcuts take only letters and digits, so `?` is a small listener in the page
(installed once per tab): it toggles the overlay of the page on screen, Escape closes it. No
rerun and no server work, so it costs nothing while the tab idles.

Streamlit ignores shortcut keys while the focus is in an <input>, and a click on a toggle,
checkbox, radio or a selectbox's choice leaves it there: 0–5, H or Q then did nothing until the
page was clicked (issue 24). The same listener gives the focus back to the page after such a
click, and after Enter (or Escape) in a one-line text box, once Streamlit has taken its value:
type a reason, press Enter, then X. Text areas keep Enter for new lines. A letter or digit that
still lands on a toggle or radio (pressed before the focus was given back, or after a re-render
focused it again) is handed to the page as the same key, so no timing can make a key go dead.
"""

from __future__ import annotations

import html

import streamlit as st

_SCRIPT = """<script>
(() => {
  if (window.__flywheelKeys) return;
  window.__flywheelKeys = true;
  const NOT_TEXT = ['checkbox', 'radio', 'range', 'button', 'file', 'reset', 'submit', 'color'];
  const STICKY = ['checkbox', 'radio', 'range'];  // controls a click leaves the focus in
  const isText = (el) => el && (el.isContentEditable || ['TEXTAREA', 'SELECT'].includes(el.tagName)
                                || (el.tagName === 'INPUT' && !NOT_TEXT.includes(el.type)));
  const release = () => {  // the focus back to the page, unless the reviewer is typing or choosing
    const active = document.activeElement;
    if (!active || active === document.body) return;
    const combobox = active.getAttribute('role') === 'combobox';
    if ((active.tagName === 'INPUT' && !isText(active)) || (combobox && active.getAttribute('aria-expanded') !== 'true')) {
      active.blur();
    }
  };
  const soon = () => { setTimeout(release, 0); setTimeout(release, 150); };  // after Streamlit's own handler and re-render
  document.addEventListener('click', soon, true);
  document.addEventListener('change', soon, true);
  document.addEventListener('keydown', (event) => {
    const target = event.target;
    const plain = /^[a-z0-9]$/i.test(event.key) && !event.ctrlKey && !event.metaKey && !event.altKey;
    if (plain && event.isTrusted && target && target.tagName === 'INPUT' && STICKY.includes(target.type)) {
      // A toggle or radio still holds the focus (clicked a moment ago, or focused again by its re-render):
      // Streamlit ignores shortcuts in an input element, so hand this key to the page instead. Space, Enter,
      // Tab and arrows still work the control from the keyboard.
      event.stopImmediatePropagation();
      event.preventDefault();
      target.blur();
      document.body.dispatchEvent(new KeyboardEvent('keydown', {key: event.key, code: event.code, keyCode: event.keyCode,
                                                                which: event.which, shiftKey: event.shiftKey, bubbles: true, cancelable: true}));
      return;
    }
    const typing = isText(target);
    const panels = document.querySelectorAll('[data-fw-keys]');
    if (event.key === '?' && !typing) {
      panels.forEach((p) => { p.style.display = p.style.display === 'block' ? 'none' : 'block'; });
      event.preventDefault();
    } else if (event.key === 'Escape') {
      panels.forEach((p) => { p.style.display = 'none'; });
    }
    const oneLine = target && target.tagName === 'INPUT' && typing && target.getAttribute('role') !== 'combobox';
    if (oneLine && panels.length && (event.key === 'Enter' || event.key === 'Escape') && !event.ctrlKey && !event.metaKey) {
      setTimeout(() => { if (document.activeElement === target) target.blur(); }, 0);  // Streamlit commits on Enter first
    }
  }, true);
})();
</script>"""

_PANEL = ("position:fixed;top:4.5rem;right:1.5rem;z-index:1000000;background:#fff;color:#1d2630;border:1px solid #c9d1da;"
          "border-radius:.6rem;box-shadow:0 6px 24px rgba(0,0,0,.18);padding:1rem 1.2rem;max-width:26rem;font-size:.95rem")


def key_help(page: str, keys: list[tuple[str, str]]) -> None:
    """Render the hidden overlay for `page` and a one-line hint; `keys` are (key, what it does)."""
    rows = "".join(f"<tr><td style='padding:.15rem .8rem .15rem 0'><kbd style='border:1px solid #aab4bf;border-radius:.25rem;"
                   f"padding:0 .35rem;font-family:monospace'>{html.escape(key)}</kbd></td><td>{html.escape(what)}</td></tr>"
                   for key, what in [*keys, ("?", "show or hide this list"), ("Esc", "close it")])
    st.html(f"<div data-fw-keys data-testid='fw-keys' role='dialog' aria-label='Keyboard shortcuts' style='display:none;{_PANEL}'>"
            f"<b>Keys on {html.escape(page)}</b><table style='margin-top:.5rem'>{rows}</table></div>{_SCRIPT}",
            unsafe_allow_javascript=True)


def hint(keys: list[tuple[str, str]]) -> str:
    """'keys: A approve · E edit … · ? all keys' for a caption."""
    return "keys: " + " · ".join(f"**{k}** {w}" for k, w in keys) + " · **?** all keys"
