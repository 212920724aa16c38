/** The workbench: a header, a language switch, and four pages chosen by the URL's hash. */
import "./style.css";
import { h, clear } from "./dom";
import { LANGUAGES, type Language, language, setLanguage, t } from "./i18n";
import { renderVerify } from "./pages/verify";
import { renderProcess } from "./pages/process";
import { renderLedger } from "./pages/ledger";
import { renderAgency } from "./pages/agency";

export interface Page {
  /** Called when the page is left: stop timers. */
  leave?: () => void;
}

const ROUTES: { path: string; label: string; render: (main: HTMLElement, arg: string) => Page | void }[] = [
  { path: "verify", label: "nav.verify", render: renderVerify },
  { path: "process", label: "nav.process", render: renderProcess },
  { path: "ledger", label: "nav.ledger", render: renderLedger },
  { path: "agency", label: "nav.agency", render: renderAgency },
];

let active: Page | void;

function route(): { path: string; arg: string } {
  const hash = location.hash.replace(/^#\/?/, "");
  const [path, ...rest] = hash.split("/");
  const known = ROUTES.some((r) => r.path === path);
  return { path: known ? path : "verify", arg: decodeURIComponent(rest.join("/")) };
}

function render(): void {
  active?.leave?.();
  const app = document.getElementById("app")!;
  clear(app);
  document.documentElement.lang = language();
  const current = route();
  const select = h(
    "select",
    {
      id: "language",
      onchange: (event: Event) => {
        setLanguage((event.target as HTMLSelectElement).value as Language);
        render();
      },
    },
    Object.entries(LANGUAGES).map(([code, name]) => h("option", { value: code, lang: code, selected: code === language() }, name)),
  );
  const main = h("main", { id: "main", tabindex: -1 });
  app.append(
    h("a", { class: "skip", href: "#main", onclick: (e: Event) => (e.preventDefault(), main.focus()) }, t("nav.skip")),
    h(
      "header",
      { class: "top" },
      h("a", { class: "brand", href: "#/verify" }, "tenderledger"),
      h(
        "nav",
        { "aria-label": t("nav.label") },
        h(
          "ul",
          {},
          ROUTES.map((r) =>
            h("li", {}, h("a", { href: `#/${r.path}`, "aria-current": r.path === current.path ? "page" : null }, t(r.label))),
          ),
          h("li", {}, h("a", { href: "/docs" }, t("nav.docs"))),
        ),
      ),
      h("div", { class: "lang" }, h("label", { for: "language" }, t("nav.language")), select),
    ),
    main,
  );
  const page = ROUTES.find((r) => r.path === current.path)!;
  document.title = `${t(page.label)} · tenderledger`;
  active = page.render(main, current.arg);
}

window.addEventListener("hashchange", render);
render();
