// The console's only script, served from chatbill itself so the pages can
// forbid inline script (Content-Security-Policy: script-src 'self').
document.addEventListener("click", (e) => {
  const el = e.target.closest("[data-confirm], [data-print]");
  if (!el) return;
  if (el.hasAttribute("data-print")) {
    e.preventDefault();
    window.print();
  } else if (!window.confirm(el.getAttribute("data-confirm"))) {
    e.preventDefault();
  }
});
