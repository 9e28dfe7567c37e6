// Suggestions for text boxes marked data-suggest: names fetched as the person types, into the box's datalist.
document.querySelectorAll("input[data-suggest][list]").forEach(function (input) {
  var list = document.getElementById(input.getAttribute("list"));
  var timer = null;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    if (input.value.trim().length < 2) { return; }
    timer = setTimeout(function () {
      fetch(input.dataset.suggest + "?q=" + encodeURIComponent(input.value), {credentials: "same-origin"})
        .then(function (response) { return response.ok ? response.json() : []; })
        .then(function (names) {
          list.replaceChildren.apply(list, names.map(function (name) {
            var option = document.createElement("option");
            option.value = name;
            return option;
          }));
        })
        .catch(function () {});
    }, 200);
  });
});
