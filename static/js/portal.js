// Loaded in <head>. Marks the page as running JavaScript, so the stylesheet hides the mobile menu behind
// its button only when the button works; without JavaScript the navigation is shown in the page.
document.documentElement.classList.add("portal-js");

// After a failed submit, focus moves to the first error summary, so a screen reader reads the errors first
// (without JavaScript, a skip link at the top of the page leads there).
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector(".portal-error-summary");
  if (summary) {
    summary.focus();
  }
});
