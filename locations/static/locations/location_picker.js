/* The location form's map picker (locations.map): a click on the map or a dragged marker
   writes the latitude and longitude fields (six decimals, the OCPI format); typing in them
   moves the marker. The fields stay the form's data: the map only helps to fill them. */
"use strict";

(function () {
  var DECIMALS = 6;

  function coordinate(input, limit) {
    var value = Number(input.value);
    return input.value.trim() !== "" && isFinite(value) && Math.abs(value) <= limit ? value : null;
  }

  function start() {
    var latitude = document.getElementById("id_latitude");
    var longitude = document.getElementById("id_longitude");
    var container = document.getElementById("location-picker");
    if (!latitude || !longitude || !container) return;
    // Right under the coordinates rather than at the end of the form.
    var row = container.parentElement;
    var longitudeRow = longitude.closest(".form-row");
    if (longitudeRow) longitudeRow.after(row);

    var config = JSON.parse(document.getElementById("map-config").textContent);
    var map = L.map(container, { worldCopyJump: true }).setView([50, 10], 4);
    L.tileLayer(config.tileUrl, { attribution: config.attribution, maxZoom: 19 }).addTo(map);
    var marker = null;
    // Leaflet's default marker, its images named as the page serves them (hashed in production).
    var icon = L.icon({
      iconUrl: config.iconUrl,
      iconRetinaUrl: config.iconRetinaUrl,
      shadowUrl: config.shadowUrl,
      iconSize: [25, 41],
      iconAnchor: [12, 41],
      popupAnchor: [1, -34],
      tooltipAnchor: [16, -28],
      shadowSize: [41, 41],
    });

    function typed() {
      var lat = coordinate(latitude, 90);
      var lng = coordinate(longitude, 180);
      return lat === null || lng === null ? null : L.latLng(lat, lng);
    }

    function place(latlng) {
      if (marker === null) {
        marker = L.marker(latlng, { draggable: true, icon: icon, title: "Location" }).addTo(map);
        marker.on("dragend", function () {
          write(marker.getLatLng());
        });
      } else {
        marker.setLatLng(latlng);
      }
    }

    function write(latlng) {
      var wrapped = latlng.wrap();
      latitude.value = wrapped.lat.toFixed(DECIMALS);
      longitude.value = wrapped.lng.toFixed(DECIMALS);
      place(wrapped);
    }

    function follow() {
      var latlng = typed();
      if (latlng === null) return;
      // The first typed position zooms in to street level; later ones only pan there.
      if (marker === null) map.setView(latlng, 15);
      else map.panTo(latlng);
      place(latlng);
    }

    var initial = typed();
    if (initial !== null) {
      place(initial);
      map.setView(initial, 15);
    }
    map.on("click", function (event) {
      write(event.latlng);
    });
    latitude.addEventListener("input", follow);
    longitude.addEventListener("input", follow);
    // The map was laid out while the row was still elsewhere.
    map.invalidateSize();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
