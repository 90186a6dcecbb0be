// The certificate's Print button: a file of kmslab's own, as the Content-Security-Policy allows no inline handler.
document.querySelectorAll("[data-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});
