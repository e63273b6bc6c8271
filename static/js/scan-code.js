// Check-in on a phone: where the browser can read QR codes (BarcodeDetector), the 扫码 button
// opens the camera and puts the first attendee code it reads into the form, which is sent at once.
// Elsewhere the organiser types the 8-character code shown under the attendee's QR code.
(function () {
  var button = document.getElementById('scan');
  var video = document.getElementById('scanner');
  var input = document.getElementById('code');
  if (!button || !video || !input || !('BarcodeDetector' in window) || !navigator.mediaDevices) return;
  button.hidden = false;
  var detector = new window.BarcodeDetector({formats: ['qr_code']});
  var stream = null;

  function stop() {
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
    video.hidden = true;
  }

  function look() {
    if (!stream) return;
    detector.detect(video).then(function (codes) {
      if (codes.length) {
        input.value = codes[0].rawValue;
        stop();
        input.form.submit();
      } else {
        requestAnimationFrame(look);
      }
    }).catch(function () { requestAnimationFrame(look); });
  }

  button.addEventListener('click', function () {
    if (stream) { stop(); return; }
    navigator.mediaDevices.getUserMedia({video: {facingMode: 'environment'}}).then(function (s) {
      stream = s;
      video.srcObject = s;
      video.hidden = false;
      video.play();
      look();
    }).catch(function () { button.hidden = true; });
  });
})();
