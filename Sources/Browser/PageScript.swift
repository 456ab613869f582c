/// The pages' one script, `x2s3.js`. Progressive enhancement only: every page works without
/// it (the URLs are selectable text, the search form is a plain GET, rows stay in S3 order).
enum PageScript {
    /// - Copy buttons: reveals them and copies the text of the element they name; adds a button
    ///   for each file's `s3://` and `https://` URL (the https one is the raw link as the browser
    ///   resolved it; the s3 one is the folder's prefix plus the name as shown).
    /// - Filter: reveals the box and hides the rows of this page whose names do not contain its
    ///   text (case-insensitive); Escape clears it, `/` elsewhere on the page focuses it.
    /// - Sort: turns the Name, Size and Date headers into buttons (keyboard-usable, announced
    ///   with `aria-sort`). Folders stay before files; the `..` row stays first; names compare
    ///   by code point, so ascending by name is the server's order.
    static let source = """
    function copied(b, label) {
      b.textContent = "Copied"; setTimeout(function () { b.textContent = label; }, 1500);
    }
    function copy(text, b, label) {
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () { copied(b, label); }, function () {});
        return;
      }
      var t = document.createElement("textarea");
      t.value = text; t.setAttribute("readonly", ""); t.style.position = "fixed"; t.style.opacity = "0";
      document.body.appendChild(t); t.select();
      try { if (document.execCommand("copy")) copied(b, label); } catch (e) {}
      document.body.removeChild(t);
    }
    document.querySelectorAll("button[data-copy]").forEach(function (b) {
      var el = document.getElementById(b.getAttribute("data-copy"));
      if (!el) return;
      b.hidden = false;
      b.addEventListener("click", function () { copy(el.textContent, b, "Copy"); });
    });
    document.querySelectorAll("table.listing[data-s3-prefix]").forEach(function (table) {
      var prefix = table.getAttribute("data-s3-prefix");
      table.querySelectorAll("tr.file").forEach(function (tr) {
        var td = tr.querySelector("td.name"), a = td && td.querySelector("a");
        if (!a) return;
        var raw = tr.querySelector("a.raw") || a;
        [["s3", prefix + a.textContent], ["https", raw.href]].forEach(function (p) {
          var b = document.createElement("button");
          b.type = "button"; b.className = "copy mini"; b.textContent = p[0];
          b.setAttribute("data-url", p[1]); b.title = "Copy " + p[1];
          b.setAttribute("aria-label", "Copy the " + p[0] + " URL of " + a.textContent);
          b.addEventListener("click", function () { copy(p[1], b, p[0]); });
          td.appendChild(b);
        });
      });
      enhanceListing(table);
    });
    function rowName(tr) { var a = tr.querySelector("td.name a"); return a ? a.textContent : ""; }
    function enhanceListing(table) {
      var tbody = table.tBodies[0], box = document.querySelector(".filter"), input = document.getElementById("filter");
      var summary = document.getElementById("summary"), text = summary ? summary.textContent : "";
      var rows = [].slice.call(tbody.querySelectorAll("tr.dir, tr.file"));
      rows.forEach(function (tr, i) { tr.setAttribute("data-index", i); });
      if (box && input && rows.length) {
        box.hidden = false;
        var none = document.createElement("tr");
        none.className = "empty no-match"; none.hidden = true;
        none.innerHTML = "<td colspan=\\"4\\"></td>";
        tbody.appendChild(none);
        var apply = function () {
          var q = input.value.trim().toLowerCase(), shown = 0;
          rows.forEach(function (tr) {
            var hide = q !== "" && rowName(tr).toLowerCase().indexOf(q) < 0;
            tr.hidden = hide; if (!hide) shown++;
          });
          none.hidden = shown > 0 || q === "";
          none.firstChild.textContent = "No names on this page contain \\u201c" + input.value.trim() + "\\u201d.";
          if (summary) summary.textContent = q === "" ? text : shown + " of " + rows.length + " on this page contain \\u201c" + input.value.trim() + "\\u201d";
        };
        input.addEventListener("input", apply);
        input.addEventListener("keydown", function (e) {
          if (e.key === "Escape" && input.value !== "") { input.value = ""; apply(); e.preventDefault(); }
        });
        document.addEventListener("keydown", function (e) {
          var t = e.target.tagName;
          if (e.key === "/" && t !== "INPUT" && t !== "TEXTAREA" && !e.ctrlKey && !e.metaKey && !e.altKey) {
            input.focus(); e.preventDefault();
          }
        });
      }
      var current = {key: "name", dir: 1};
      var heads = [].slice.call(table.querySelectorAll("th[data-sort]"));
      heads.forEach(function (th) {
        var key = th.getAttribute("data-sort"), b = document.createElement("button");
        b.type = "button"; b.className = "sort"; b.textContent = th.textContent;
        b.setAttribute("data-sort", key);
        th.textContent = ""; th.appendChild(b);
        b.addEventListener("click", function () {
          current = {key: key, dir: current.key === key ? -current.dir : (key === "name" ? 1 : -1)};
          sortRows(tbody, rows, current);
          heads.forEach(function (h) {
            h.setAttribute("aria-sort", h === th ? (current.dir > 0 ? "ascending" : "descending") : "none");
          });
        });
      });
      if (heads.length) heads[0].setAttribute("aria-sort", "ascending");
    }
    function sortRows(tbody, rows, by) {
      var value = function (tr) {
        if (by.key === "name") return rowName(tr);
        return Number(tr.getAttribute(by.key === "size" ? "data-size" : "data-date")) || 0;
      };
      var sorted = rows.slice().sort(function (a, b) {
        var da = a.classList.contains("dir"), db = b.classList.contains("dir");
        if (da !== db) return da ? -1 : 1;
        if (da && by.key !== "name") return a.getAttribute("data-index") - b.getAttribute("data-index");
        var x = value(a), y = value(b);
        if (x < y) return -by.dir;
        if (x > y) return by.dir;
        return a.getAttribute("data-index") - b.getAttribute("data-index");
      });
      var after = tbody.querySelector("tr.no-match");
      sorted.forEach(function (tr) { tbody.insertBefore(tr, after); });
    }
    """
}
