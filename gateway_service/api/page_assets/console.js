// The console's only script: a file sent with a progress bar, then its way through the
// pipeline followed live (Server-Sent Events) until every e-mail has an outcome.
(function () {
  var csrf = document.querySelector('meta[name="csrf-token"]');
  var bar = document.getElementById("progress");
  var text = document.getElementById("progress-text");

  function follow(uploadId) {
    var events = new EventSource("/console/api/uploads/" + uploadId + "/events");
    events.addEventListener("progress", function (event) {
      var p = JSON.parse(event.data).progress;
      var accepted = Number(p.accepted);
      var done = Number(p.emailsSent) + Number(p.emailsFailed) + Number(p.boletosFailed);
      bar.hidden = false;
      bar.value = 50 + 50 * (accepted ? Math.min(done / accepted, 1) : 1);
      text.textContent = p.settled
        ? "Concluído: " + p.boletosIssued + " boletos, " + p.emailsSent + " e-mails enviados, " +
          p.emailsFailed + " com falha."
        : "Processando: " + p.boletosIssued + " de " + accepted + " boletos, " + p.emailsSent +
          " e-mails enviados.";
      if (p.settled) { bar.value = 100; events.close(); }
    });
    events.addEventListener("problem", function (event) {
      text.textContent = JSON.parse(event.data).detail;
      events.close();
    });
  }

  var retorno = document.getElementById("retorno-form");
  if (retorno) {
    retorno.addEventListener("submit", function (event) {
      event.preventDefault();
      var file = document.getElementById("retorno-file").files[0];
      var result = document.getElementById("retorno-result");
      if (!file) { return; }
      result.textContent = "Enviando " + file.name + "…";
      fetch("/console/api/retornos?fileName=" + encodeURIComponent(file.name), {
        method: "POST",
        headers: { "Content-Type": "application/octet-stream",
                   "X-CSRF-Token": csrf ? csrf.content : "" },
        body: file,
      }).then(function (response) {
        return response.json().then(function (answer) {
          if (!response.ok) {
            result.textContent = "Retorno recusado: " + answer.detail;
            return;
          }
          var s = answer.summary;
          result.textContent = s.alreadyProcessed
            ? "Este retorno já tinha sido processado."
            : "Retorno processado: " + s.registered + " registrados, " + s.rejected +
              " rejeitados, " + s.paid + " pagos, " + s.writtenOff + " baixados.";
        });
      });
    });
  }

  var form = document.getElementById("upload-form");
  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var file = document.getElementById("file").files[0];
      if (!file) { return; }
      var request = new XMLHttpRequest();
      request.open("POST", "/console/api/uploads?fileName=" + encodeURIComponent(file.name));
      request.setRequestHeader("Content-Type", "text/csv");
      request.setRequestHeader("X-CSRF-Token", csrf ? csrf.content : "");
      bar.hidden = false;
      bar.value = 0;
      text.textContent = "Enviando " + file.name + "…";
      request.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) { bar.value = 50 * e.loaded / e.total; }
      });
      request.addEventListener("load", function () {
        var answer = {};
        try { answer = JSON.parse(request.responseText); } catch (ignored) { /* not JSON */ }
        if (request.status !== 201) {
          text.textContent = "Não foi possível enviar: " + (answer.detail || request.status);
          return;
        }
        var id = answer.summary.uploadId;
        var link = document.getElementById("upload-link");
        link.href = "/console/uploads/" + id;
        link.hidden = false;
        text.textContent = "Recebido: " + answer.summary.accepted + " linhas aceitas, " +
          answer.summary.rejected + " recusadas.";
        bar.value = 50;
        follow(id);
      });
      request.send(file);
    });
  } else if (bar && bar.dataset.upload) {
    follow(bar.dataset.upload);
  }
})();
