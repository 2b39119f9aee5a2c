// alilink's player: copy the link, keys for the next and previous file, and
// go on to the next file when one ends. The page plays without it.
"use strict";
(function () {
  var copy = document.getElementById("copy"), note = document.getElementById("copied");
  if (copy) {
    copy.addEventListener("click", function () {
      var url = copy.dataset.url;
      function done(msg) { note.textContent = msg; setTimeout(function () { note.textContent = ""; }, 2500); }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(url).then(function () { done("Copied"); }, function () { done(url); });
      } else {
        done(url); // no clipboard outside https: show it to copy by hand
      }
    });
  }
  var media = document.getElementById("media");
  var next = document.getElementById("next"), prev = document.getElementById("prev");
  if (media && next) media.addEventListener("ended", function () { location.href = next.href; });
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || /^(INPUT|TEXTAREA)$/.test(e.target.tagName)) return;
    if (e.key === "n" && next) location.href = next.href;
    else if (e.key === "p" && prev) location.href = prev.href;
    else if (e.key === "f" && media && media.requestFullscreen) media.requestFullscreen();
  });
})();
