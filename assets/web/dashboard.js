// Draw the dashboard's charts with Apache ECharts from the numbers the page embeds as JSON. The tables on the
// page carry the same numbers for screen readers and without JavaScript. The big screen reloads itself.
(() => {
  const root = document.querySelector('[data-testid="dashboard"]');
  const data = document.getElementById('dashboard-data');
  if (!root || !data || !window.echarts) return;
  const d = JSON.parse(data.textContent);
  const dark = root.classList.contains('screen');
  const bar = (pairs) => ({
    grid: { left: 48, right: 16, top: 16, bottom: 64 },
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'category', data: pairs.map((p) => p[0]), axisLabel: { rotate: pairs.length > 6 ? 30 : 0 } },
    yAxis: { type: 'value', minInterval: 1 },
    series: [{ type: 'bar', data: pairs.map((p) => p[1]), itemStyle: { color: '#9e1b1f' } }],
  });
  const options = {
    channels: {
      tooltip: { trigger: 'item' },
      series: [{ type: 'pie', radius: ['35%', '65%'], data: d.channels.map((p) => ({ name: p[0], value: p[1] })) }],
    },
    departments: bar(d.departments),
    hours: bar(d.hours),
    trend: {
      grid: { left: 48, right: 16, top: 32, bottom: 48 },
      tooltip: { trigger: 'axis' },
      legend: { data: [d.labels.applications, d.labels.completions] },
      xAxis: { type: 'category', data: d.trend.map((r) => r[0].slice(5)) },
      yAxis: { type: 'value', minInterval: 1 },
      series: [
        { name: d.labels.applications, type: 'line', data: d.trend.map((r) => r[1]), itemStyle: { color: '#9e1b1f' } },
        { name: d.labels.completions, type: 'line', data: d.trend.map((r) => r[2]), itemStyle: { color: '#1f5f8b' } },
      ],
    },
  };
  const charts = [];
  for (const el of root.querySelectorAll('[data-chart]')) {
    const o = options[el.dataset.chart];
    if (!o) continue;
    const c = window.echarts.init(el, dark ? 'dark' : null, { renderer: 'canvas' });
    c.setOption(Object.assign({ backgroundColor: 'transparent', animation: false }, o));
    charts.push(c);
    el.dataset.drawn = '1';
  }
  window.addEventListener('resize', () => charts.forEach((c) => c.resize()));
  const refresh = Number(root.dataset.refresh || 0);
  if (refresh > 0) setTimeout(() => location.reload(), refresh * 1000);
})();
