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
