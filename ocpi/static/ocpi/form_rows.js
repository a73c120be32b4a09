"use strict";
// "Add a row" for the tables of ocpi/form_rows.py: copies the blank row kept in the table's
// <template> with the next free index and counts it. Without this script the page still
// offers blank rows of its own (and more after each "Save and continue editing").
document.addEventListener("DOMContentLoaded", () => {
  for (const rows of document.querySelectorAll(".ocpi-rows")) {
    const button = rows.querySelector(":scope > .ocpi-rows-add");
    const count = rows.querySelector(":scope > .ocpi-rows-count");
    const template = rows.querySelector(":scope > template.ocpi-rows-template");
    const body = rows.querySelector(":scope > table > tbody");
    if (!button || !count || !template || !body) continue;
    button.hidden = false;
    button.addEventListener("click", () => {
      const index = Number(count.value);
      body.insertAdjacentHTML("beforeend", template.innerHTML.replaceAll("__prefix__", String(index)));
      count.value = String(index + 1);
    });
  }
});
