// The copy buttons: the code goes to the clipboard, and a screen reader hears that it did.
document.querySelectorAll("button.copy").forEach(function (button) {
  button.addEventListener("click", function () {
    var field = document.getElementById(button.dataset.copy);
    var said = document.getElementById("copied");
    field.select();
    var done = function () {
      var before = button.textContent;
      button.textContent = "Copiado!";
      said.textContent = "Código copiado";
      setTimeout(function () { button.textContent = before; }, 2000);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () {
        document.execCommand("copy"); done();
      });
    } else {
      document.execCommand("copy"); done();
    }
  });
});
