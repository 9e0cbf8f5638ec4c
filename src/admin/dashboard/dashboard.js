// otel-friction dashboard: polls /api/v1/overview and renders the friction feed and the
// per-service panels. Plain browser JavaScript, no build step; uPlot is served beside it.
// Every piece of signal or service data goes into the DOM as text (textContent, attribute
// values), never as markup: titles and attribute values come from the services we watch.
(function () {
  'use strict';

  var POLL_MS = 5000;
  var PLOT_HEIGHT = 140;
  var SEVERITY = {
    critical: { icon: '▲', label: 'Critical' },
    warning: { icon: '◆', label: 'Warning' },
    info: { icon: '●', label: 'Info' },
  };

  var panels = new Map(); // service -> { root, charts: Map(metric -> { plot, figure }) }
  var timer = 0;
  var highlighted = new URLSearchParams(location.search).get('fingerprint');
  var focusPending = highlighted !== null;

  /** An element with attributes and children (strings become text nodes). */
  function el(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) {
      for (var k in attrs) {
        if (attrs[k] === undefined || attrs[k] === null || attrs[k] === false) continue;
        if (k === 'text') node.textContent = String(attrs[k]);
        else if (k === 'className') node.className = attrs[k];
        else node.setAttribute(k, attrs[k] === true ? '' : String(attrs[k]));
      }
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === undefined || c === null || c === false) continue;
      node.append(typeof c === 'string' || typeof c === 'number' ? String(c) : c);
    }
    return node;
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined || !isFinite(seconds)) return '–';
    var s = Math.round(seconds);
    if (s < 60) return s + 's';
    var m = Math.floor(s / 60);
    if (m < 60) return m + 'm' + (s % 60 ? ' ' + (s % 60) + 's' : '');
    var h = Math.floor(m / 60);
    if (h < 48) return h + 'h' + (m % 60 ? ' ' + (m % 60) + 'm' : '');
    return Math.floor(h / 24) + 'd ' + (h % 24) + 'h';
  }

  function percent(x, digits) {
    return x === null || x === undefined ? '–' : (x * 100).toFixed(digits === undefined ? 1 : digits) + '%';
  }

  function number(x) {
    if (x === null || x === undefined || !isFinite(x)) return '–';
    if (Math.abs(x) >= 100) return Math.round(x).toString();
    if (Math.abs(x) >= 10) return x.toFixed(1);
    return x.toFixed(2);
  }

  /** An id usable in `id` and `href="#…"` for any text; distinct texts give distinct ids. */
  function slug(prefix, text) {
    // `_` is the escape character, so it is escaped too ('a.b' and 'a_2e' must not meet).
    return prefix + '-' + String(text).replace(/[^A-Za-z0-9-]/g, function (c) { return '_' + c.charCodeAt(0).toString(16) + '_'; });
  }

  /** The exemplar link from admin.dashboard.trace_url, only when it is an http(s) URL. */
  function traceHref(template, traceId) {
    if (!template) return null;
    try {
      var url = new URL(template.split('{trace_id}').join(encodeURIComponent(traceId)), location.href);
      return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function severityBadge(severity) {
    var s = SEVERITY[severity] || { icon: '?', label: String(severity) };
    return el('span', { className: 'badge sev-' + severity },
      el('span', { 'aria-hidden': 'true', text: s.icon + ' ' }), s.label);
  }

  function ageText(s) {
    return s.status === 'firing' ? 'firing for ' + duration(s.ageSeconds) : 'resolved ' + duration(s.ageSeconds) + ' ago, after ' + duration(s.resolveSeconds);
  }

  /** What must change for an item to be rebuilt whole; anything else is patched in place. */
  function itemVersion(s, traceUrl) {
    return [s.status, traceUrl].join('|');
  }

  /**
   * Brings an item's element up to date from a freshly built one, replacing only the parts whose
   * text changed (a firing signal's summary and evidence change at every window close; its title
   * and exemplar ids mostly do not), so a selection or reading position in an unchanged part
   * survives. Returns false when the two are not shaped alike (then the fresh one is used).
   */
  function patchItem(li, fresh) {
    var a = li.firstElementChild;
    var b = fresh.firstElementChild;
    if (!a || !b || a.children.length !== b.children.length) return false;
    for (var i = 0; i < a.children.length; i++) {
      if (a.children[i].tagName !== b.children[i].tagName || a.children[i].className !== b.children[i].className) return false;
    }
    li.className = fresh.className;
    Array.prototype.slice.call(b.children).forEach(function (part, i) {
      var old = a.children[i];
      if (old.tagName === 'DETAILS') {
        // Keep the <details> (its open state); only its text changes.
        var pre = old.querySelector('pre');
        var text = part.querySelector('pre').textContent;
        if (pre.textContent !== text) pre.textContent = text;
      } else if (old.textContent !== part.textContent) {
        a.replaceChild(part, old);
      }
    });
    return true;
  }

  function feedItem(s, traceUrl) {
    var id = slug('signal', s.id);
    var firing = s.status === 'firing';
    var when = ageText(s);
    var meta = el('p', { className: 'meta' },
      severityBadge(s.severity), ' ',
      el('span', { className: 'priority', text: 'priority ' + s.priority }), ' · ',
      el('span', { className: 'age', text: when }), ' · ',
      el('span', { text: 'service ' + s.service + (s.operation ? ' · ' + s.operation : '') }),
      s.owner ? ' · ' : null, s.owner ? el('span', { className: 'owner', text: 'owner ' + s.owner }) : null);
    var tags = (s.outcomes || []).length === 0 ? null
      : el.apply(null, ['ul', { className: 'tags', 'aria-label': 'Business outcomes' }].concat(s.outcomes.map(function (o) { return el('li', { text: o }); })));
    var exemplars = null;
    if ((s.exemplars || []).length > 0) {
      exemplars = el('p', { className: 'exemplars' }, 'Exemplar traces: ');
      s.exemplars.forEach(function (x, i) {
        var label = x.traceId.slice(0, 16) + '… (' + number(x.durationMs) + ' ms' + (x.error ? ', failed' : '') + ')';
        var href = traceHref(traceUrl, x.traceId);
        if (i > 0) exemplars.append(', ');
        exemplars.append(href
          ? el('a', { href: href, rel: 'noreferrer', 'data-focus-key': 'ex:' + s.id + ':' + i, title: 'Trace ' + x.traceId, text: label })
          : el('code', { title: 'Trace ' + x.traceId, text: x.traceId }));
      });
    }
    var evidence = el('details', { 'data-open-key': s.id },
      el('summary', { 'data-focus-key': 'ev:' + s.id, text: 'Evidence' }),
      el('pre', { text: JSON.stringify(s.evidence, null, 2) }));
    var title = el('a', { href: '?fingerprint=' + encodeURIComponent(s.fingerprint), className: 'title-link', 'data-focus-key': 'title:' + s.id, 'data-fingerprint': s.fingerprint, text: s.title });
    title.addEventListener('click', function (ev) {
      ev.preventDefault();
      highlighted = s.fingerprint;
      history.replaceState(null, '', '?fingerprint=' + encodeURIComponent(s.fingerprint));
      markHighlighted();
    });
    return el('li', { className: 'signal sev-' + s.severity + (firing ? ' firing' : ' resolved'), id: id, 'data-fingerprint': s.fingerprint, 'data-status': s.status, 'data-version': itemVersion(s, traceUrl) },
      el('article', { 'aria-labelledby': id + '-title' },
        el('h4', { id: id + '-title' }, title),
        meta,
        el('p', { className: 'summary', text: s.summary }),
        tags, exemplars, evidence));
  }

  function markHighlighted() {
    document.querySelectorAll('.signal.highlight').forEach(function (n) { n.classList.remove('highlight'); });
    if (!highlighted) return null;
    var found = null;
    document.querySelectorAll('.signal').forEach(function (n) {
      if (found === null && n.getAttribute('data-fingerprint') === highlighted) found = n;
    });
    if (found) found.classList.add('highlight');
    return found;
  }

  /**
   * Updates a list in place: an item whose signal did not change keeps its element (only its
   * age text is rewritten), so a text selection, a reading position, an open <details> and
   * keyboard focus survive polls. Changed or new signals get new elements; the list is only
   * re-ordered when the order changed. Focus and open <details> follow a rebuilt item by key.
   */
  function renderList(list, empty, count, signals, traceUrl) {
    var active = document.activeElement && list.contains(document.activeElement) ? document.activeElement.getAttribute('data-focus-key') : null;
    var open = new Set();
    list.querySelectorAll('details[open]').forEach(function (d) { open.add(d.getAttribute('data-open-key')); });
    var existing = new Map();
    Array.prototype.forEach.call(list.children, function (li) { existing.set(li.id, li); });
    var items = signals.map(function (s) {
      var li = existing.get(slug('signal', s.id));
      var fresh = feedItem(s, traceUrl);
      if (li && li.getAttribute('data-version') === fresh.getAttribute('data-version') && patchItem(li, fresh)) return li;
      return fresh;
    });
    var same = items.length === list.children.length && items.every(function (li, i) { return list.children[i] === li; });
    if (!same) list.replaceChildren.apply(list, items);
    list.querySelectorAll('details').forEach(function (d) { if (open.has(d.getAttribute('data-open-key'))) d.open = true; });
    if (active && !list.contains(document.activeElement)) {
      var again = Array.prototype.find.call(list.querySelectorAll('[data-focus-key]'), function (n) { return n.getAttribute('data-focus-key') === active; });
      if (again) again.focus();
    }
    empty.hidden = signals.length > 0;
    count.textContent = '(' + signals.length + ')';
  }

  function renderFeed(data) {
    renderList(byId('firing'), byId('firing-empty'), byId('firing-count'), data.signals.firing, data.traceUrl);
    renderList(byId('resolved'), byId('resolved-empty'), byId('resolved-count'), data.signals.resolved, data.traceUrl);
    var target = markHighlighted();
    // Opened from an alert's link (?fingerprint=…): focus that signal once, on the first render
    // only, so a later poll never pulls focus away from where the reader went.
    if (focusPending && target) {
      target.scrollIntoView({ block: 'center' });
      target.querySelector('.title-link').focus();
    }
    focusPending = false;
  }

  function byId(id) {
    return document.getElementById(id);
  }

  // --- service panels -------------------------------------------------------------------

  var PLOTS = [
    { metric: 'rate', caption: 'Requests per second', series: [{ key: 'rate', label: 'req/s', stroke: '#2f6fdb' }], unit: '/s' },
    { metric: 'errors', caption: 'Error ratio, % of requests', series: [{ key: 'errorRatio', label: 'errors', stroke: '#c4271a', percent: true }], unit: '%' },
    { metric: 'latency', caption: 'Latency p50 (solid) and p99 (dashed), ms', series: [
      { key: 'p50', label: 'p50 ms', stroke: '#4a8c2a' },
      { key: 'p99', label: 'p99 ms', stroke: '#8a4fc4', dash: [6, 4] },
    ], unit: ' ms' },
  ];

  function chartData(svc, plot) {
    return [svc.t].concat(plot.series.map(function (s) {
      var col = svc[s.key];
      return s.percent ? col.map(function (v) { return v === null ? null : v * 100; }) : col;
    }));
  }

  function lastValue(col) {
    for (var i = col.length - 1; i >= 0; i--) if (col[i] !== null) return col[i];
    return null;
  }

  /** What a screen reader hears for a plot: the latest value and the peak. */
  function plotLabel(svc, plot) {
    var parts = plot.series.map(function (s) {
      var col = svc[s.key].filter(function (v) { return v !== null; });
      var scale = s.percent ? 100 : 1;
      var last = lastValue(svc[s.key]);
      return s.label + ' latest ' + (last === null ? 'none' : number(last * scale)) + ', peak ' + (col.length ? number(Math.max.apply(null, col) * scale) : 'none');
    });
    return plot.caption + ' for ' + svc.service + ' over ' + svc.t.length + ' windows: ' + parts.join('; ');
  }

  function plotWidth(figure) {
    return Math.max(160, Math.floor(figure.clientWidth || 300));
  }

  function makeChart(figure, box, svc, plot) {
    // Canvas has no `currentColor`: axes take the page's text colour (light or dark scheme).
    var ink = getComputedStyle(document.body).color;
    var opts = {
      width: plotWidth(figure),
      height: PLOT_HEIGHT,
      legend: { show: false },
      cursor: { show: true, drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, max > 0 ? max * 1.1 : 1]; } } },
      axes: [{ stroke: ink, grid: { stroke: 'rgba(128,128,128,0.2)' }, ticks: { stroke: 'rgba(128,128,128,0.4)' } },
        { stroke: ink, size: 48, grid: { stroke: 'rgba(128,128,128,0.2)' }, ticks: { stroke: 'rgba(128,128,128,0.4)' } }],
      series: [{}].concat(plot.series.map(function (s) {
        return { label: s.label, stroke: s.stroke, width: 2, dash: s.dash, spanGaps: false, points: { show: false } };
      })),
    };
    // eslint-disable-next-line no-undef
    return new uPlot(opts, chartData(svc, plot), box);
  }

  function sloCard(slo) {
    var remaining = Math.max(0, Math.min(1, slo.budgetRemaining));
    var low = remaining < 0.25;
    var rows = slo.rules.map(function (r) {
      return el('tr', { className: r.firing ? 'burning' : '' },
        el('th', { scope: 'row', text: r.long + ' / ' + r.short }),
        el('td', { text: number(r.longRate) + '× / ' + number(r.shortRate) + '×' }),
        el('td', { text: r.factor + '×' }),
        el('td', { text: r.firing ? '▲ burning (' + r.severity + ')' : 'ok' }));
    });
    return el('section', { className: 'slo' + (low ? ' low' : ''), 'aria-labelledby': slug('slo', slo.name) },
      el('h4', { id: slug('slo', slo.name), text: 'SLO ' + slo.name }),
      el('p', { className: 'slo-what', text: percent(slo.objective, 2) + ' ' + slo.sli + (slo.operation !== '*' ? ' of ' + slo.operation : '') + ' over ' + slo.period }),
      el('p', { className: 'budget' },
        el('span', { text: 'Error budget remaining: ' }),
        el('strong', { text: percent(remaining) + (low ? ' (low)' : '') })),
      el('meter', { min: '0', max: '1', low: '0.25', high: '0.5', optimum: '1', value: String(remaining), 'aria-label': 'Error budget remaining for ' + slo.name }),
      el('table', { className: 'burn' },
        el('caption', { text: 'Burn rates (long / short window; alert at factor)' }),
        el('thead', null, el('tr', null, el('th', { scope: 'col', text: 'Windows' }), el('th', { scope: 'col', text: 'Burn' }), el('th', { scope: 'col', text: 'Factor' }), el('th', { scope: 'col', text: 'State' }))),
        el.apply(null, ['tbody', null].concat(rows))));
  }

  function panelMeta(svc) {
    var bits = [];
    if (svc.owner) bits.push('owner ' + svc.owner);
    bits.push('tier ' + svc.tier);
    bits.push(svc.mttr ? 'MTTR ' + duration(svc.mttr.mean_seconds) + ' (' + svc.mttr.resolved + ' resolved in 7 days, longest ' + duration(svc.mttr.max_seconds) + ')' : 'MTTR – (nothing resolved in 7 days)');
    if (svc.spans === 'all') bits.push('no server spans: counting all spans');
    return bits.join(' · ');
  }

  function buildPanel(svc) {
    var id = slug('service', svc.service);
    var root = el('article', { className: 'service', 'aria-labelledby': id, 'data-service': svc.service },
      el('h3', { id: id },
        el('span', { className: 'name', text: svc.service }), ' ',
        el('span', { className: 'firing-badge' })),
      el('p', { className: 'meta' }),
      el('div', { className: 'plots' }),
      el('div', { className: 'slos' }));
    var panel = { root: root, charts: new Map() };
    PLOTS.forEach(function (plot) {
      var box = el('div', { className: 'chart', role: 'img' });
      var figure = el('figure', { className: 'plot', 'data-metric': plot.metric }, el('figcaption', { text: plot.caption }), box);
      root.querySelector('.plots').append(figure);
      panel.charts.set(plot.metric, { figure: figure, box: box, plot: null });
    });
    return panel;
  }

  function updatePanel(panel, svc) {
    var badge = panel.root.querySelector('.firing-badge');
    badge.textContent = svc.firing > 0 ? '▲ ' + svc.firing + ' firing' : '✓ quiet';
    badge.className = 'firing-badge ' + (svc.firing > 0 ? 'hot' : 'ok');
    panel.root.querySelector('.meta').textContent = panelMeta(svc);
    PLOTS.forEach(function (plot) {
      var c = panel.charts.get(plot.metric);
      var data = chartData(svc, plot);
      c.figure.setAttribute('data-points', String(svc.t.length));
      c.box.setAttribute('aria-label', plotLabel(svc, plot));
      if (typeof uPlot === 'undefined') return; // the script failed to load: labels still tell
      if (c.plot === null) c.plot = makeChart(c.figure, c.box, svc, plot);
      else c.plot.setData(data);
    });
    var slos = panel.root.querySelector('.slos');
    slos.replaceChildren.apply(slos, svc.slos.map(sloCard));
  }

  function renderServices(data) {
    var container = byId('services');
    var seen = new Set();
    data.services.forEach(function (svc) {
      seen.add(svc.service);
      var panel = panels.get(svc.service);
      if (!panel) {
        panel = buildPanel(svc);
        panels.set(svc.service, panel);
      }
      // Appending an existing node moves it: panels follow the ranking, charts survive.
      container.append(panel.root);
      updatePanel(panel, svc);
    });
    panels.forEach(function (panel, name) {
      if (seen.has(name)) return;
      panel.charts.forEach(function (c) { if (c.plot) c.plot.destroy(); });
      panel.root.remove();
      panels.delete(name);
    });
    byId('services-empty').hidden = data.services.length > 0;
  }

  function resizeCharts() {
    panels.forEach(function (panel) {
      panel.charts.forEach(function (c) {
        if (c.plot) c.plot.setSize({ width: plotWidth(c.figure), height: PLOT_HEIGHT });
      });
    });
  }

  // --- polling ---------------------------------------------------------------------------

  // The status is a live region: it changes only when the news does (firing count, lost
  // connection), so screen readers are not told the time every five seconds.
  function setStatus(text, problem) {
    var s = byId('status');
    if (s.textContent !== text) s.textContent = text;
    s.className = problem ? 'problem' : '';
  }

  function poll() {
    clearTimeout(timer);
    // A hung connection (a laptop waking up, a stalled sidecar) must not stop the polling
    // while the page still says it is up to date.
    var controller = new AbortController();
    var abort = setTimeout(function () { controller.abort(); }, 2 * POLL_MS);
    fetch('/api/v1/overview', { headers: { accept: 'application/json' }, cache: 'no-store', signal: controller.signal })
      .then(function (res) {
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.json();
      })
      .then(function (data) {
        renderFeed(data);
        renderServices(data);
        var firing = data.signals.firing.length;
        document.title = (firing > 0 ? '(' + firing + ') ' : '') + 'otel-friction';
        setStatus(firing === 0 ? 'Nothing firing' : firing + ' firing', false);
        byId('updated').textContent = '· updated ' + new Date(data.generatedAt).toLocaleTimeString() + ', refreshes every ' + POLL_MS / 1000 + ' s';
        document.body.setAttribute('data-updated', data.generatedAt);
      })
      .catch(function (err) {
        var why = err && err.name === 'AbortError' ? 'no answer within ' + (2 * POLL_MS) / 1000 + ' s' : err.message;
        var last = document.body.getAttribute('data-updated');
        setStatus('Cannot reach the sidecar (' + why + '); retrying every ' + POLL_MS / 1000 + ' s' + (last ? '. Showing data from ' + new Date(last).toLocaleTimeString() : ''), true);
      })
      .then(function () {
        clearTimeout(abort);
        if (!document.hidden) timer = setTimeout(poll, POLL_MS);
      });
  }

  document.addEventListener('visibilitychange', function () {
    if (!document.hidden) poll();
  });
  var resizeTimer = 0;
  window.addEventListener('resize', function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(resizeCharts, 100);
  });
  poll();
})();
