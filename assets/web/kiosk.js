// Kiosk mode: after a period without touch or keys, go back to the start page. A person still signed in is
// signed out first (the page's own sign-out form, with its CSRF token). The period comes from the server.
(() => {
  const idle = Number(document.body.dataset.kioskIdle || 90000);
  let timer;
  const reset = () => {
    const out = document.querySelector('form[action="/signout"]');
    if (out) {
      out.submit();
    } else if (location.pathname !== '/kiosk') {
      location.href = '/kiosk';
    } else {
      arm();
    }
  };
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(reset, idle);
  };
  for (const e of ['pointerdown', 'keydown', 'touchstart', 'input', 'scroll']) {
    addEventListener(e, arm, { passive: true });
  }
  arm();
})();
