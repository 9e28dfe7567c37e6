// Loaded in <head>. Marks the page as running JavaScript, so the stylesheet hides the mobile menu behind
// its button only when the button works; without JavaScript the navigation is shown in the page.
document.documentElement.classList.add("portal-js");
