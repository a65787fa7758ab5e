// Filter the centre list as the citizen types (accents optional: "thanh sen" finds "Thành Sen").
// Without JavaScript the search box still works: the form reloads the page filtered server-side.
(function () {
  "use strict";
  function fold(text) {
    return text.replace(/đ/g, "d").replace(/Đ/g, "D").normalize("NFD")
      .replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-filter-target]").forEach(function (input) {
      var select = document.getElementById(input.getAttribute("data-filter-target"));
      if (!select) { return; }
      input.addEventListener("input", function () {
        var key = fold(input.value.trim());
        Array.prototype.forEach.call(select.options, function (option) {
          if (!option.value) { return; }
          option.hidden = key !== "" && fold(option.text).indexOf(key) === -1;
        });
      });
    });
    // Changing the province reloads the list of its centres.
    document.querySelectorAll("select[name=province]").forEach(function (select) {
      select.addEventListener("change", function () {
        var search = select.form.querySelector("input[name=q]");
        if (search) { search.value = ""; }
        select.form.submit();
      });
    });
  });
})();
