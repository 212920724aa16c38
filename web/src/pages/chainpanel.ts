/** Which RPC endpoints the page asks, shown and editable; and the message for a chain that cannot be used. */
import { h } from "../dom";
import { t } from "../i18n";
import { ChainError } from "../chain/rpc";
import { ServerError } from "../api";
import { chosenEndpoints, getDeployment, saveEndpoints } from "../connection";

/** One clear sentence for an error met while reading the chain or the server. */
export function explain(error: unknown): string {
  if (error instanceof ChainError) return t(`error.${error.code}`, error.params);
  if (error instanceof ServerError) {
    if (error.status === 0) return t("error.serverUnreachable");
    return t("error.server", { status: error.status, detail: error.detail });
  }
  return t("error.unexpected", { detail: error instanceof Error ? error.message : String(error) });
}

/** The panel naming the endpoints asked; ``onChange`` runs after the auditor changes them. */
export function chainPanel(onChange: () => void): HTMLElement {
  const panel = h("section", { class: "panel chain", "aria-labelledby": "chain-title" });
  const asked = h("p", { id: "endpoints-asked" }, t("chain.loading"));
  const area = h("textarea", { id: "endpoints", rows: 2, spellcheck: "false", "aria-describedby": "endpoints-help" });
  const help = h("p", { id: "endpoints-help", class: "help" }, t("chain.help"));
  const apply = h(
    "button",
    {
      type: "button",
      onclick: () => {
        saveEndpoints(area.value.split(/\s+/));
        void refresh();
        onChange();
      },
    },
    t("chain.apply"),
  );
  const reset = h(
    "button",
    {
      type: "button",
      class: "secondary",
      onclick: () => {
        saveEndpoints([]);
        void refresh();
        onChange();
      },
    },
    t("chain.reset"),
  );
  const refresh = async () => {
    try {
      const deployment = await getDeployment();
      const list = chosenEndpoints(deployment.rpc_url);
      area.value = list.join("\n");
      asked.textContent = t("chain.asked", { endpoints: list.join(", ") || "—", chain: deployment.chain_id, ledger: deployment.ledger });
    } catch (error) {
      asked.textContent = explain(error);
    }
  };
  void refresh();
  panel.append(
    h("h2", { id: "chain-title" }, t("chain.title")),
    asked,
    h("label", { for: "endpoints" }, t("chain.label")),
    area,
    help,
    h("div", { class: "buttons" }, apply, reset),
  );
  return panel;
}
