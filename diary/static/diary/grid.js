// Reception's keys on the appointment book: arrows for the previous and next day (or week),
// t for today, / to find a patient. Not while typing in a field, nor with a modifier (the
// browser's own keys). A file, not an inline script: the admin's CSP allows 'self' only.
document.addEventListener("keydown", function (event) {
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  if (event.target.closest("input, select, textarea, [contenteditable]")) return;
  var link = {ArrowLeft: "previous", ArrowRight: "next", t: "today"}[event.key];
  if (link) {
    event.preventDefault();
    window.location.href = document.querySelector("[data-key=" + link + "]").href;
  } else if (event.key === "/") {
    event.preventDefault();
    document.getElementById("grid-patient-search").focus();
  }
});
