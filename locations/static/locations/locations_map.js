/* The operator's map of locations (locations.map): every location a circle in its status
   colour, from the JSON of map/data/; a click shows its name, address, EVSE counts per status
   and a link to its page. Markers are vectors: they show when no tile loads. */
"use strict";

(function () {
  var COLOURS = { green: "#2e7d32", blue: "#1565c0", red: "#c62828", grey: "#757575" };

  function element(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  // Built as DOM nodes, never HTML strings: names and addresses are operator text.
  function popup(location) {
    var box = element("div");
    box.appendChild(element("strong", location.name));
    box.appendChild(element("div", location.address));
    var counts = element("ul", undefined, "map-popup-counts");
    var statuses = Object.keys(location.counts);
    if (statuses.length === 0) counts.appendChild(element("li", "no EVSEs"));
    statuses.forEach(function (status) {
      counts.appendChild(element("li", status + ": " + location.counts[status]));
    });
    box.appendChild(counts);
    var link = element("a", "Open the location");
    link.href = location.url;
    box.appendChild(link);
    return box;
  }

  function start() {
    var config = JSON.parse(document.getElementById("map-config").textContent);
    var container = document.getElementById("locations-map");
    var map = L.map(container, { worldCopyJump: true }).setView([50, 10], 4);
    var tiles = L.tileLayer(config.tileUrl, { attribution: config.attribution, maxZoom: 19 });
    tiles.once("tileerror", function () {
      document.getElementById("map-tile-warning").hidden = false;
    });
    tiles.addTo(map);

    fetch(config.dataUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("map data: HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        var markers = data.locations.map(function (location) {
          var colour = COLOURS[location.colour] || COLOURS.grey;
          return L.circleMarker([location.latitude, location.longitude], {
            radius: 8,
            color: "#ffffff",
            weight: 2,
            fillColor: colour,
            fillOpacity: 0.9,
            className: "map-marker map-marker-" + location.colour,
          }).bindPopup(popup(location));
        });
        var group = L.featureGroup(markers).addTo(map);
        if (markers.length) map.fitBounds(group.getBounds(), { padding: [30, 30], maxZoom: 15 });
        container.dataset.markers = String(markers.length);
      });
  }

  document.addEventListener("DOMContentLoaded", start);
})();
