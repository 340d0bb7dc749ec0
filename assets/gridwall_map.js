/* Map styling and filtering for dash-leaflet, run in the browser from each layer's `hideout`.
   Referenced from Python as {"variable": "dashExtensions.default.<name>"}. No network access. */
window.dashExtensions = Object.assign({}, window.dashExtensions, {
  default: {
    styleFill: function (feature, context) {
      const h = (context && context.hideout) || {};
      return {color: h.color || "#2b3b55", weight: h.weight || 0.5, fillColor: h.fill || "#1a2436",
              fillOpacity: h.opacity === undefined ? 0.8 : h.opacity};
    },
    styleLine: function (feature, context) {
      const h = (context && context.hideout) || {};
      const kind = (feature.properties || {}).kind || "";
      const major = /arterial|primary|trunk|主干/.test(kind);
      return {color: major ? (h.major || "#4a6489") : (h.color || "#33445e"), weight: major ? 2.5 : 1, opacity: 0.9};
    },
    styleGrid: function (feature, context) {
      const h = (context && context.hideout) || {};
      const p = feature.properties || {};
      const hi = h.highlight && h.highlight.indexOf(p.code) >= 0;
      const bad = h.bad && h.bad.indexOf(p.code) >= 0;
      return {color: hi ? "#ffb020" : (bad ? "#ff4d4f" : (h.color || "#3fa7ff")), weight: hi ? 3 : (h.weight || 1),
              dashArray: h.dash || null, fillColor: hi ? "#ffb020" : (bad ? "#ff4d4f" : "#3fa7ff"),
              fillOpacity: hi ? 0.25 : (bad ? 0.2 : (h.fillOpacity || 0.03))};
    },
    styleHeat: function (feature, context) {
      const h = (context && context.hideout) || {};
      const n = (feature.properties || {}).n || 0;
      const r = Math.min(1, n / (h.max || 1));
      const colors = ["#2c7bb6", "#abd9e9", "#ffffbf", "#fdae61", "#d7191c"];
      return {stroke: false, fillColor: colors[Math.min(4, Math.floor(r * 4.999))], fillOpacity: 0.1 + 0.4 * r};
    },
    keep: function (feature, context) {
      /* hideout.filters: {property: [accepted values]}; an empty or missing list keeps all */
      const h = (context && context.hideout) || {};
      if (h.hidden) { return false; }
      const f = h.filters || {};
      const p = feature.properties || {};
      for (const key in f) {
        const ok = f[key];
        if (ok && ok.length && ok.indexOf(String(p[key])) < 0) { return false; }
      }
      return true;
    },
    point: function (feature, latlng, context) {
      const h = (context && context.hideout) || {};
      const p = feature.properties || {};
      let color = h.color || "#3fa7ff";
      if (p.online === false) { color = "#6b7280"; }
      if (p.fresh) { color = "#ff3b30"; }
      if (h.byPriority && p.priority !== undefined && p.priority <= 1) { color = "#ff6b3d"; }
      return L.circleMarker(latlng, {radius: h.radius || 4, color: color, weight: 1, fillColor: color,
                                     fillOpacity: 0.85, bubblingMouseEvents: false});
    },
    cell: function (feature, latlng, context) {
      /* a cell counted by the API (/layers/<layer>/clusters): a badge with the count, or the one feature */
      const h = (context && context.hideout) || {};
      const p = feature.properties || {};
      const n = p.count || 0;
      if (h.dots) {
        const c = h.color || "#3fa7ff";
        return L.circleMarker(latlng, {radius: (h.radius || 2) + Math.min(6, Math.sqrt(n)), color: c, weight: 1,
                                       fillColor: c, fillOpacity: 0.75, interactive: false});
      }
      if (n <= 1) {
        const color = p.online === 0 ? "#6b7280" : (h.color || "#3fa7ff");
        return L.circleMarker(latlng, {radius: h.radius || 4, color: color, weight: 1, fillColor: color,
                                       fillOpacity: 0.85, interactive: false});
      }
      const size = n < 100 ? 28 : (n < 1000 ? 36 : 46);
      const share = p.online === undefined ? 1 : p.online / n;
      const label = n >= 10000 ? Math.round(n / 1000) + "k" : (n >= 1000 ? (n / 1000).toFixed(1) + "k" : String(n));
      const icon = L.divIcon({html: '<div><span>' + label + '</span></div>',
                              className: 'gw-cluster gw-cluster-' + (n < 100 ? 's' : (n < 1000 ? 'm' : 'l'))
                                         + (share < 0.8 ? ' gw-cluster-down' : ''),
                              iconSize: L.point(size, size)});
      return L.marker(latlng, {icon: icon, interactive: false, keyboard: false,
                               title: p.online === undefined ? String(n) : (p.online + " / " + n)});
    },
    cluster: function (feature, latlng, index, context) {
      const n = feature.properties.point_count;
      const size = n < 100 ? 28 : (n < 1000 ? 36 : 46);
      const icon = L.divIcon({html: '<div><span>' + feature.properties.point_count_abbreviated + '</span></div>',
                              className: 'gw-cluster gw-cluster-' + (n < 100 ? 's' : (n < 1000 ? 'm' : 'l')),
                              iconSize: L.point(size, size)});
      return L.marker(latlng, {icon: icon});
    }
  }
});
