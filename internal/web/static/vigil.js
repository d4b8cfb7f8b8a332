// Vigil's small progressive enhancements. Every page works without this file: forms post, links navigate and the
// server checks everything. No inline script or style anywhere (the Content-Security-Policy forbids them).
(function () {
  "use strict";

  // The rubric asks only the questions the earlier answers lead to: hide and disable the others, so that the
  // submitted answers are exactly the path taken (the server prunes the same way when this script does not run).
  function rubricFlow(box) {
    var qs = box.querySelectorAll("fieldset.rq");
    var byId = {};
    qs.forEach(function (q) { byId[q.dataset.q] = q; });
    var show = {};
    var queue = [];
    qs.forEach(function (q) { if (q.classList.contains("root")) queue.push(q.dataset.q); });
    while (queue.length) {
      var id = queue.shift();
      if (show[id] || !byId[id]) continue;
      show[id] = true;
      var picked = byId[id].querySelector("input[type=radio]:checked");
      if (picked && picked.dataset.reveals) {
        picked.dataset.reveals.split(" ").forEach(function (n) { if (n) queue.push(n); });
      }
    }
    qs.forEach(function (q) {
      var on = !!show[q.dataset.q];
      q.hidden = !on;
      q.querySelectorAll("input").forEach(function (i) { i.disabled = !on; });
    });
  }

  // The event form shows the fields of the chosen event type only.
  function eventFields(form) {
    var type = form.querySelector("select[name=type]").value;
    form.querySelectorAll("fieldset[data-for]").forEach(function (fs) {
      var on = fs.dataset.for.split(" ").indexOf(type) >= 0;
      fs.hidden = !on;
      fs.querySelectorAll("input,select").forEach(function (i) { i.disabled = !on; });
    });
  }

  // The CVSS picker writes a v3.1 vector into the vector field (and reads one back), so a person can build the
  // vector from the metrics or paste one; htmx then asks the server for the score.
  function pickerFromVector(picker, input) {
    var parts = {};
    (input.value || "").split("/").forEach(function (p) {
      var kv = p.split(":");
      if (kv.length === 2) parts[kv[0]] = kv[1];
    });
    picker.querySelectorAll("select[data-metric]").forEach(function (s) {
      s.value = parts[s.dataset.metric] || "";
    });
  }
  function vectorFromPicker(picker, input) {
    var v = "CVSS:3.1";
    picker.querySelectorAll("select[data-metric]").forEach(function (s) {
      if (s.value) v += "/" + s.dataset.metric + ":" + s.value;
    });
    input.value = v;
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // The notice builder's criterion 2 check follows the element fields as they are typed (the server checks the
  // same on save and on send).
  function noticeCheck(form) {
    form.querySelectorAll("textarea[data-element]").forEach(function (t) {
      var item = document.querySelector("#element-check li[data-check='" + t.dataset.element + "']");
      if (!item) return;
      var missing = t.value.trim() === "";
      item.className = missing ? "bad" : "good";
      var badge = item.querySelector(".badge");
      badge.className = "badge " + (missing ? "bad" : "good");
      badge.textContent = missing ? "missing" : "present";
    });
  }

  function init(root) {
    root.querySelectorAll("form.notice-builder").forEach(function (form) {
      noticeCheck(form);
      form.addEventListener("input", function () { noticeCheck(form); });
    });
    root.querySelectorAll("details.rubric").forEach(function (box) {
      rubricFlow(box);
      box.addEventListener("change", function () { rubricFlow(box); });
    });
    root.querySelectorAll("form.eventform").forEach(function (form) {
      eventFields(form);
      form.querySelector("select[name=type]").addEventListener("change", function () { eventFields(form); });
    });
    root.querySelectorAll(".cvss-picker").forEach(function (picker) {
      var input = document.getElementById(picker.dataset.target);
      if (!input) return;
      pickerFromVector(picker, input);
      picker.addEventListener("change", function () { vectorFromPicker(picker, input); });
      input.addEventListener("change", function () { pickerFromVector(picker, input); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSettle", function (e) { init(e.target); });
})();
