/** Message catalogs (src/locales/*.json) and the viewer's language; dates in the viewer's time zone. */
import en from "./locales/en.json";
import es from "./locales/es.json";
import zh from "./locales/zh-Hans.json";

export const LANGUAGES = { en: "English", es: "Español", "zh-Hans": "简体中文" } as const;
export type Language = keyof typeof LANGUAGES;

const CATALOGS: Record<Language, Record<string, string>> = { en, es, "zh-Hans": zh };
const STORAGE_KEY = "tenderledger.language";

function initial(): Language {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved && saved in CATALOGS) return saved as Language;
  const browser = navigator.language.toLowerCase();
  if (browser.startsWith("es")) return "es";
  if (browser.startsWith("zh")) return "zh-Hans";
  return "en";
}

let current: Language = initial();

export function language(): Language {
  return current;
}

export function setLanguage(next: Language): void {
  current = next;
  localStorage.setItem(STORAGE_KEY, next);
  document.documentElement.lang = next;
}

/** The message ``key`` in the current language (English when missing), with {name} filled in. */
export function t(key: string, params: Record<string, string | number> = {}): string {
  const text = CATALOGS[current][key] ?? CATALOGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name: string) => (name in params ? String(params[name]) : `{${name}}`));
}

export function hasMessage(key: string): boolean {
  return key in CATALOGS.en;
}

/** A unix time in the viewer's time zone, and the same in UTC (for the hover title). */
export function formatTime(unixSeconds: number): { local: string; utc: string; iso: string } {
  const date = new Date(unixSeconds * 1000);
  const local = new Intl.DateTimeFormat(current, { dateStyle: "medium", timeStyle: "medium" }).format(date);
  const utc = new Intl.DateTimeFormat(current, { dateStyle: "medium", timeStyle: "medium", timeZone: "UTC" }).format(date) + " UTC";
  return { local, utc, iso: date.toISOString() };
}

export function formatDay(unixSeconds: number): string {
  return new Intl.DateTimeFormat(current, { month: "short", day: "numeric" }).format(new Date(unixSeconds * 1000));
}

/** A date with its year, for time axes. */
export function formatDate(unixSeconds: number): string {
  return new Intl.DateTimeFormat(current, { year: "numeric", month: "short", day: "numeric" }).format(new Date(unixSeconds * 1000));
}

export function formatNumber(n: number): string {
  return new Intl.NumberFormat(current).format(n);
}
