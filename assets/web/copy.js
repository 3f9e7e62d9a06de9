// Copy buttons and read-only fields that select their text (the licence identifier on 我的证照). The pages' CSP
// allows no inline script, so this file does it: a button `data-copy="<field id>"` copies that field's value and
// says so in the live region `data-status="<id>"` (texts `data-copied` / `data-failed` come from the page, in its
// language); a read-only field `data-select-on-focus` selects its whole text when focused or clicked. Without
// script the buttons stay hidden and the field can still be selected and copied by hand.
(() => {
  const reveal = (root) => {
    for (const b of root.querySelectorAll('button[data-copy][hidden]')) b.hidden = false;
  };
  const selectField = (e) => {
    const f = e.target;
    if ((f instanceof HTMLInputElement || f instanceof HTMLTextAreaElement) && f.hasAttribute('data-select-on-focus')) f.select();
  };
  document.addEventListener('focusin', selectField);
  document.addEventListener('click', selectField);
  document.addEventListener('click', async (e) => {
    const b = e.target instanceof Element ? e.target.closest('button[data-copy]') : null;
    if (!b) return;
    const field = document.getElementById(b.dataset.copy);
    const status = document.getElementById(b.dataset.status);
    if (!field) return;
    let ok = false;
    try {
      await navigator.clipboard.writeText(field.value);
      ok = true;
    } catch {
      field.focus();
      field.select();
      try {
        ok = document.execCommand('copy');
      } catch {
        ok = false;
      }
    }
    if (status) {
      // Cleared first so that copying twice is announced twice.
      status.textContent = '';
      setTimeout(() => {
        status.textContent = ok ? b.dataset.copied : b.dataset.failed;
      }, 50);
    }
  });
  reveal(document);
  // Parts of the page swapped in by htmx.
  document.addEventListener('htmx:load', (e) => reveal(e.target));
})();
