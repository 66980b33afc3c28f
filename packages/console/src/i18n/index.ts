/**
 * English and Chinese, every string of the console. The language is the user's last choice
 * (localStorage), else the browser's. `en.ts` is the source of the keys; `zh.ts` must have the
 * same keys (its type says so, and a test compares them).
 */
import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import en from './en';
import zh from './zh';

export const LANGUAGES = [
  { code: 'en', label: 'English', htmlLang: 'en' },
  { code: 'zh', label: '中文', htmlLang: 'zh-CN' },
] as const;
export type LanguageCode = (typeof LANGUAGES)[number]['code'];
const STORAGE_KEY = 'canopy.lang';

function initialLanguage(): LanguageCode {
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    if (stored === 'en' || stored === 'zh') return stored;
  } catch {
    // Storage unavailable: fall through to the browser's language.
  }
  return navigator.language?.toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

function applyDocumentLanguage(code: string): void {
  document.documentElement.lang = LANGUAGES.find((l) => l.code === code)?.htmlLang ?? 'en';
  document.title = i18n.t('app.title');
}

void i18n.use(initReactI18next).init({
  resources: { en: { translation: en }, zh: { translation: zh } },
  lng: initialLanguage(),
  fallbackLng: 'en',
  interpolation: { escapeValue: false },
  returnNull: false,
});
applyDocumentLanguage(i18n.language);

export function setLanguage(code: LanguageCode): void {
  void i18n.changeLanguage(code);
  try {
    localStorage.setItem(STORAGE_KEY, code);
  } catch {
    // Not persisted; the choice still applies to this page.
  }
  applyDocumentLanguage(code);
}

/** Translates a key computed at run time (model titles, statuses); unknown keys fall back to `fallback`. */
export function translateKey(key: string, fallback?: string, options?: Record<string, unknown>): string {
  if (fallback !== undefined && !i18n.exists(key)) return fallback;
  return (i18n.t as unknown as (k: string, o?: Record<string, unknown>) => string)(key, options);
}

export default i18n;
