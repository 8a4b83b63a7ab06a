/* global uPlot */
'use strict';

// The dashboard page: connects to the dashboard's WebSocket on the same host, keeps the last
// MAX_POINTS metric messages, and redraws the cards and uPlot charts from them. Reconnects with
// exponential backoff (0.5 s doubling to 10 s, with jitter) and treats a silent connection
// (no message for 3 intervals) as lost.
(function () {
  const MAX_POINTS = 300;
  const MAX_APP_CHARTS = 12;
  const MB = 1024 * 1024;

  const $ = (sel) => document.querySelector(sel);
  const statusEl = $('#status');
  const statusText = $('#status-text');
  const css = getComputedStyle(document.documentElement);
  const color = (name) => css.getPropertyValue(name).trim() || '#888';

  let points = [];
  let interval = 1000;

  // ---- formatting ----------------------------------------------------------------------------
  function fmtNumber(v) {
    if (v === null || v === undefined || Number.isNaN(v)) return '–';
    if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
    if (Number.isInteger(v)) return String(v);
    if (Math.abs(v) >= 100) return v.toFixed(0);
    if (Math.abs(v) >= 10) return v.toFixed(1);
    return v.toFixed(2);
  }
  function fmtBytes(v) {
    if (v === null || v === undefined) return '–';
    if (v >= 1024 * MB) return (v / (1024 * MB)).toFixed(2) + ' GB';
    return (v / MB).toFixed(1) + ' MB';
  }
  function fmtDuration(s) {
    if (s === null || s === undefined) return '–';
    s = Math.floor(s);
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const sec = s % 60;
    const pad = (n) => String(n).padStart(2, '0');
    return h > 0 ? `${h}h ${pad(m)}m` : m > 0 ? `${m}m ${pad(sec)}s` : `${sec}s`;
  }
  // 24-hour HH:MM:SS of a time in seconds, for the x axes.
  function clock(t) {
    const d = new Date(t * 1000);
    return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
  }
  const formats = { bytes: fmtBytes, duration: fmtDuration };
  function get(obj, path) {
    return path.split('.').reduce((o, k) => (o === null || o === undefined ? undefined : o[k]), obj);
  }

  // ---- charts --------------------------------------------------------------------------------
  const defs = [
    {
      id: 'chart-latency',
      series: [
        ['p50', '--s1', (m) => m.responseTime.p50],
        ['p90', '--s2', (m) => m.responseTime.p90],
        ['p99', '--s3', (m) => m.responseTime.p99],
      ],
    },
    {
      id: 'chart-throughput',
      series: [
        ['req/s', '--s1', (m) => m.requestsPerSecond],
        ['msg in/s', '--s4', (m) => m.messages.inPerSecond],
        ['msg out/s', '--s5', (m) => m.messages.outPerSecond],
      ],
    },
    {
      id: 'chart-loop',
      series: [
        ['mean', '--s1', (m) => m.eventLoopDelay.mean],
        ['p99', '--s3', (m) => m.eventLoopDelay.p99],
        ['max', '--s2', (m) => m.eventLoopDelay.max],
      ],
    },
    {
      id: 'chart-cpu',
      series: [
        ['total', '--s2', (m) => m.cpu.percent],
        ['user', '--s1', (m) => m.cpu.user],
        ['system', '--s5', (m) => m.cpu.system],
      ],
    },
    {
      id: 'chart-memory',
      series: [
        ['rss', '--s1', (m) => m.memory.rss / MB],
        ['heap used', '--s4', (m) => m.memory.heapUsed / MB],
        ['heap total', '--s5', (m) => m.memory.heapTotal / MB],
      ],
    },
    { id: 'chart-users', series: [['users', '--s1', (m) => m.activeUsers]] },
  ];
  const charts = [];

  function makeChart(el, def) {
    const axis = {
      stroke: color('--muted'),
      grid: { stroke: color('--grid'), width: 1 },
      ticks: { stroke: color('--grid'), width: 1 },
      font: '11px system-ui, sans-serif',
    };
    const opts = {
      width: Math.max(el.clientWidth, 200),
      height: 180,
      cursor: { drag: { x: false, y: false } },
      legend: { live: true },
      scales: {
        x: { time: true },
        y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1] },
      },
      axes: [
        { ...axis, space: 70, values: (_u, ticks) => ticks.map(clock) },
        { ...axis, size: 48, values: (_u, ticks) => ticks.map(fmtNumber) },
      ],
      series: [
        { value: (_u, v) => (v === null ? '–' : new Date(v * 1000).toLocaleTimeString()) },
        ...def.series.map(([label, c]) => ({
          label,
          stroke: color(c),
          width: 1.75,
          points: { show: false },
          value: (_u, v) => fmtNumber(v),
        })),
      ],
    };
    const chart = new uPlot(opts, [[], ...def.series.map(() => [])], el);
    new ResizeObserver(() => {
      const w = Math.max(el.clientWidth, 200);
      if (w !== chart.width) chart.setSize({ width: w, height: 180 });
    }).observe(el);
    return { def, chart };
  }

  function chartData(def) {
    const xs = points.map((m) => m.time / 1000);
    return [xs, ...def.series.map(([, , pick]) => points.map((m) => pick(m) ?? null))];
  }

  // ---- app metrics ---------------------------------------------------------------------------
  const appCharts = new Map();
  function appDef(name) {
    return {
      series: [
        ['last', '--s1', (m) => (m.app && m.app[name] ? m.app[name].last : null)],
        ['mean', '--s4', (m) => (m.app && m.app[name] ? m.app[name].mean : null)],
        ['p99', '--s3', (m) => (m.app && m.app[name] ? m.app[name].p99 : null)],
      ],
    };
  }
  function renderApp(latest) {
    const names = Object.keys(latest.app || {}).sort();
    $('#app-empty').hidden = names.length > 0;
    const table = $('#app-table');
    table.hidden = names.length === 0;
    const body = table.tBodies[0];
    body.replaceChildren(
      ...names.map((name) => {
        const a = latest.app[name];
        const tr = document.createElement('tr');
        for (const v of [name, fmtNumber(a.last), fmtNumber(a.mean), fmtNumber(a.p99), fmtNumber(a.rate)]) {
          const td = document.createElement('td');
          td.textContent = v;
          tr.appendChild(td);
        }
        tr.dataset.app = name;
        return tr;
      }),
    );
    for (const name of names) {
      if (appCharts.has(name) || appCharts.size >= MAX_APP_CHARTS) continue;
      const fig = document.createElement('figure');
      fig.className = 'chart-card';
      const cap = document.createElement('figcaption');
      cap.textContent = name;
      const el = document.createElement('div');
      el.className = 'chart';
      fig.append(cap, el);
      $('#app-charts').appendChild(fig);
      appCharts.set(name, makeChart(el, appDef(name)));
    }
  }

  // ---- rendering -----------------------------------------------------------------------------
  let drawQueued = false;
  function render() {
    if (drawQueued) return;
    drawQueued = true;
    requestAnimationFrame(() => {
      drawQueued = false;
      const latest = points[points.length - 1];
      if (!latest) return;
      for (const el of document.querySelectorAll('[data-metric]')) {
        const v = get(latest, el.dataset.metric);
        const f = formats[el.dataset.format] || fmtNumber;
        el.textContent = f(v);
      }
      $('#updated').textContent = new Date(latest.time).toLocaleTimeString();
      $('#interval').textContent = String(latest.interval);
      renderApp(latest);
      for (const c of [...charts, ...appCharts.values()]) {
        const data = chartData(c.def);
        c.chart.setData(data);
        // Without a pointer over the chart, the legend shows the latest values.
        if (c.chart.cursor.left < 0 && data[0].length > 0) c.chart.setLegend({ idx: data[0].length - 1 });
      }
    });
  }

  function accept(msg) {
    if (msg.type === 'history' && Array.isArray(msg.items)) {
      points = msg.items.slice(-MAX_POINTS);
    } else if (msg.type === 'metrics') {
      points.push(msg);
      if (points.length > MAX_POINTS) points.splice(0, points.length - MAX_POINTS);
    } else {
      return;
    }
    const latest = points[points.length - 1];
    if (latest && latest.interval) interval = latest.interval;
    render();
  }

  // ---- connection ----------------------------------------------------------------------------
  const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws';
  $('#endpoint').textContent = url;
  let attempt = 0;
  let socket = null;
  let lastMessage = 0;
  let countdown = null;

  function setStatus(state, text) {
    statusEl.dataset.state = state;
    statusText.textContent = text;
  }

  function connect() {
    clearInterval(countdown);
    setStatus('connecting', attempt === 0 ? 'Connecting…' : 'Reconnecting…');
    const ws = new WebSocket(url);
    socket = ws;
    ws.onopen = () => {
      attempt = 0;
      lastMessage = Date.now();
      setStatus('live', 'Live');
    };
    ws.onmessage = (ev) => {
      lastMessage = Date.now();
      if (statusEl.dataset.state !== 'live') setStatus('live', 'Live');
      try {
        accept(JSON.parse(ev.data));
      } catch (err) {
        console.error('dashboard: bad message', err);
      }
    };
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = null;
      const delay = Math.min(10000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
      attempt += 1;
      const due = Date.now() + delay;
      const tick = () => {
        const left = Math.max(0, Math.ceil((due - Date.now()) / 1000));
        setStatus('reconnecting', `Disconnected · retrying in ${left} s`);
      };
      tick();
      countdown = setInterval(tick, 1000);
      setTimeout(connect, delay);
    };
  }

  // A connection that went silent (sleeping laptop, dropped Wi-Fi) is closed and retried.
  setInterval(() => {
    if (socket && socket.readyState === WebSocket.OPEN && Date.now() - lastMessage > Math.max(3 * interval, 5000)) {
      setStatus('stale', 'No data · reconnecting');
      socket.close();
    }
  }, 1000);

  for (const def of defs) charts.push(makeChart(document.getElementById(def.id), def));
  connect();
})();
