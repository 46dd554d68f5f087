/* Drag categories and dishes into order on the merchant's menu page, then save the order in one
 * request. Pointer events (not HTML5 drag and drop) so it works the same with a mouse, a finger or
 * a pen; a row moves only within its own list (a dish stays in its category). */
(function () {
  "use strict";

  var saveButton = document.getElementById("save-order");
  var status = document.getElementById("order-status");
  if (!saveButton) return;

  function movableSiblings(list, except) {
    return Array.prototype.filter.call(list.children, function (child) {
      return child !== except && !child.hasAttribute("data-fixed");
    });
  }

  function markUnsaved() {
    saveButton.disabled = false;
    status.textContent = status.getAttribute("data-unsaved");
    status.className = "unsaved";
  }

  function startDrag(event) {
    var handle = event.target.closest(".drag-handle");
    if (!handle || event.button > 0) return;
    var row = handle.closest("li");
    var list = row.parentElement;
    event.preventDefault();
    row.classList.add("dragging");

    function move(moveEvent) {
      var siblings = movableSiblings(list, row);
      var before = null;
      for (var i = 0; i < siblings.length; i++) {
        var box = siblings[i].getBoundingClientRect();
        if (moveEvent.clientY < box.top + box.height / 2) { before = siblings[i]; break; }
      }
      if (!before) {
        before = Array.prototype.find.call(list.children, function (c) { return c.hasAttribute("data-fixed"); }) || null;
      }
      if (before !== row && row.nextElementSibling !== before) {
        list.insertBefore(row, before);
        markUnsaved();
      }
    }

    function stop() {
      row.classList.remove("dragging");
      document.removeEventListener("pointermove", move);
      document.removeEventListener("pointerup", stop);
      document.removeEventListener("pointercancel", stop);
    }

    document.addEventListener("pointermove", move);
    document.addEventListener("pointerup", stop);
    document.addEventListener("pointercancel", stop);
  }

  function ids(selector) {
    return Array.prototype.map.call(document.querySelectorAll(selector), function (el) {
      return Number(el.getAttribute("data-id"));
    });
  }

  function save() {
    var csrf = document.querySelector("#menu-order input[name=csrfmiddlewaretoken]").value;
    saveButton.disabled = true;
    fetch(saveButton.getAttribute("data-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({
        categories: ids("#category-list > li.menu-category[data-id]"),
        items: ids("#category-list li.menu-dish")
      })
    }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) throw new Error((body.error && body.error.message) || response.statusText);
        status.textContent = body.message;
        status.className = "saved";
      });
    }).catch(function (error) {
      saveButton.disabled = false;
      status.textContent = status.getAttribute("data-failed") + ": " + error.message;
      status.className = "failed";
    });
  }

  document.getElementById("category-list").addEventListener("pointerdown", startDrag);
  saveButton.addEventListener("click", save);
})();
