// From a cell of the grid the time is chosen and the patient is all that is left: their
// search opens at once, so reception types a name, picks them and books. A ready handler
// registered after the admin's autocomplete.js runs after it has set select2 up.
django.jQuery(function ($) {
  $("#id_patient").select2("open");
});
