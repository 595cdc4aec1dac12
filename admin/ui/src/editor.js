// The Lua editor: CodeMirror 6 with the legacy Lua mode, bracket
// matching, search, history, and the server's compile check as you type
// (the same compile a save runs), its errors underlined at their line and
// column.
import { EditorState, Compartment } from "@codemirror/state";
import {
  EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter,
  drawSelection, highlightSpecialChars,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { StreamLanguage, bracketMatching, indentOnInput, syntaxHighlighting, defaultHighlightStyle } from "@codemirror/language";
import { lua } from "@codemirror/legacy-modes/mode/lua";
import { searchKeymap, highlightSelectionMatches } from "@codemirror/search";
import { closeBrackets, closeBracketsKeymap } from "@codemirror/autocomplete";
import { linter, lintGutter, lintKeymap } from "@codemirror/lint";
import { MergeView } from "@codemirror/merge";
import { api } from "./api.js";

const luaLanguage = StreamLanguage.define(lua);

function baseExtensions() {
  return [
    lineNumbers(), highlightActiveLineGutter(), highlightSpecialChars(), history(), drawSelection(),
    indentOnInput(), syntaxHighlighting(defaultHighlightStyle, { fallback: true }), bracketMatching(),
    closeBrackets(), highlightActiveLine(), highlightSelectionMatches(), luaLanguage,
    EditorView.lineWrapping,
  ];
}

// position turns a 1-based line and column into a document offset.
function position(doc, line, column) {
  if (!line || line < 1) return { from: 0, to: Math.min(doc.length, doc.line(1).to) };
  const l = doc.line(Math.min(line, doc.lines));
  const text = l.text;
  let at = Math.min(Math.max((column || 1) - 1, 0), text.length);
  if (at === text.length && at > 0) at--;
  // Underline the whole token the column falls in (the compiler points
  // into or just past it), not the rest of the line.
  let start = at, end = at;
  while (start > 0 && /\S/.test(text[start - 1])) start--;
  while (end < text.length && /\S/.test(text[end])) end++;
  if (start === end) return { from: l.from, to: l.to };
  return { from: l.from + start, to: l.from + end };
}

// createEditor mounts an editor in parent. opts: doc, handler() (the
// handler name the compile checks), name() (the function's name, for the
// messages), onStatus(ok, message, line),
// onSave(), onChange().
export function createEditor(parent, opts) {
  const readOnly = new Compartment();
  const compileCheck = linter(async (view) => {
    const source = view.state.doc.toString();
    try {
      await api.post("/api/admin/functions/compile", { source, handler: opts.handler(), name: opts.name() });
      opts.onStatus(true, "Compiles", 0);
      return [];
    } catch (e) {
      if (e.code !== "compile_error") {
        opts.onStatus(false, `${e.code}: ${e.message}`, 0);
        return [];
      }
      const line = (e.details && e.details.line) || 0;
      const column = (e.details && e.details.column) || 0;
      opts.onStatus(false, e.message, line);
      const { from, to } = position(view.state.doc, line, column);
      return [{ from, to, severity: "error", message: e.message, source: "compile" }];
    }
  }, { delay: 350 });
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: opts.doc || "",
      extensions: [
        baseExtensions(), compileCheck, lintGutter(), readOnly.of([]),
        keymap.of([
          { key: "Mod-s", preventDefault: true, run: () => { opts.onSave(); return true; } },
          { key: "Mod-Enter", preventDefault: true, run: () => { opts.onRun && opts.onRun(); return true; } },
          ...closeBracketsKeymap, ...defaultKeymap, ...searchKeymap, ...historyKeymap, ...lintKeymap,
          // Tab indents; Escape then Tab leaves the editor, so keyboard
          // users are never trapped in it.
          indentWithTab,
        ]),
        EditorView.updateListener.of((u) => { if (u.docChanged && opts.onChange) opts.onChange(); }),
        EditorView.contentAttributes.of({ "aria-label": "Lua source" }),
      ],
    }),
  });
  return {
    view,
    text: () => view.state.doc.toString(),
    setText(text) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
    },
    goToLine(line) {
      const l = view.state.doc.line(Math.max(1, Math.min(line, view.state.doc.lines)));
      view.dispatch({ selection: { anchor: l.from }, scrollIntoView: true });
      view.focus();
    },
    destroy: () => view.destroy(),
  };
}

// createDiff shows two sources side by side, changes highlighted.
export function createDiff(parent, left, right) {
  const ro = [baseExtensions(), EditorState.readOnly.of(true), EditorView.editable.of(false)];
  return new MergeView({
    parent,
    a: { doc: left, extensions: ro },
    b: { doc: right, extensions: ro },
    collapseUnchanged: { margin: 3, minSize: 6 },
    gutter: true,
  });
}
