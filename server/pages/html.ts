/**
 * The one way the pages write HTML: `html` tagged templates escape every interpolated value unless
 * it is already Html (built by another `html` template). There is no other escape function and no
 * "raw" helper, so user-supplied text (origins, names, lot codes, schemes) cannot become markup.
 */

export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export type Renderable = Html | string | number | bigint | boolean | null | undefined | readonly Renderable[];

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escapes text for an element body or a double- or single-quoted attribute value. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

function render(value: Renderable): string {
  if (value === null || value === undefined || value === false || value === true) return "";
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(render).join("");
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Renderable[]): Html {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new Html(out);
}

/** Joins pieces (each escaped unless Html) with a separator that is itself escaped. */
export function join(pieces: readonly Renderable[], separator = ""): Html {
  return new Html(pieces.map(render).join(escapeHtml(separator)));
}
