// The error summary (GOV.UK pattern): on load it takes focus so screen readers read it first; each link moves
// focus to the field it names (a fragment link alone only scrolls).
(function () {
  function ready(fn) { if (document.readyState !== 'loading') fn(); else document.addEventListener('DOMContentLoaded', fn); }
  ready(function () {
    var summary = document.querySelector('.error-summary');
    if (summary) summary.focus();
    document.addEventListener('click', function (e) {
      var a = e.target.closest && e.target.closest('.error-summary a[data-focus]');
      if (!a) return;
      var target = document.getElementById(a.getAttribute('data-focus').replace(/^#/, ''));
      if (!target) return;
      e.preventDefault();
      target.scrollIntoView({ block: 'center' });
      target.focus();
    });
  });
})();
// The channel of an application: the review form says "mobile" when the page is in the phone layout (the
// stylesheet's narrow breakpoint) on a touch screen, so a phone's application is recorded as a mobile one.
(function () {
  var phone = window.matchMedia && window.matchMedia('(max-width: 47.99rem) and (pointer: coarse)').matches;
  if (!phone) return;
  var mark = function () {
    document.querySelectorAll('input[data-device]').forEach(function (i) { i.value = 'mobile'; });
  };
  if (document.readyState !== 'loading') mark(); else document.addEventListener('DOMContentLoaded', mark);
})();
