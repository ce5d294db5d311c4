// Demo page of the course editor: mounts it with a small Flask project.
(function () {
  "use strict";

  var starter = {
    "app.py":
      "from flask import Flask, render_template\n\n" +
      "app = Flask(__name__)\n\n\n" +
      "@app.get(\"/\")\n" +
      "def index():\n" +
      "    \"\"\"Show the home page.\"\"\"\n" +
      "    return render_template(\"index.html\", title=\"Hello\", items=[1, 2, 3])\n",
    "templates/base.html":
      "<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>{% block title %}{% endblock %}</title>\n" +
      "</head>\n<body>\n  {% block content %}{% endblock %}\n</body>\n</html>\n",
    "templates/index.html":
      "{% extends \"base.html\" %}\n{# The home page #}\n{% block content %}\n" +
      "  <h1 class=\"title\">{{ title }}</h1>\n  <ul>\n  {% for item in items %}\n" +
      "    <li>{{ item|upper }}</li>\n  {% endfor %}\n  </ul>\n{% endblock %}\n",
    "static/style.css": "body {\n  font-family: sans-serif;\n  color: #222;\n}\n",
    "pyproject.toml":
      "[project]\nname = \"hello\"\nversion = \"0.1.0\"\ndependencies = [\"flask>=3\"]\n",
    "README.md": "# Hello\n\nRun it with `flask --app app run`.\n",
    "tests/test_app.py": "def test_home(client):\n    assert client.get(\"/\").status_code == 200\n",
  };

  var log = document.getElementById("demo-log");
  var dump = document.getElementById("demo-files");
  var changes = 0;

  var editor = window.CourseEditor.mount(document.getElementById("editor"), {
    files: starter,
    readOnlyPaths: ["tests/test_app.py"],
    onChange: function (files) {
      changes += 1;
      window.demoChanges = changes;
      window.demoLastFiles = files;
      log.textContent = "onChange #" + changes + ": " + Object.keys(files).length + " files.";
    },
  });
  window.demoEditor = editor;

  document.querySelectorAll("[data-theme-set]").forEach(function (button) {
    button.addEventListener("click", function () {
      var theme = button.getAttribute("data-theme-set");
      if (theme) document.documentElement.setAttribute("data-theme", theme);
      else document.documentElement.removeAttribute("data-theme");
    });
  });
  document.getElementById("demo-reset").addEventListener("click", function () {
    editor.setFiles(starter);
  });
  document.getElementById("demo-dump").addEventListener("click", function () {
    dump.hidden = false;
    dump.textContent = JSON.stringify(editor.getFiles(), null, 2);
  });
})();
