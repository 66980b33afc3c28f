/** PatternFly's dark theme: the `pf-v6-theme-dark` class on <html>, the user's choice persisted. */
import { useCallback, useState } from 'react';

const STORAGE_KEY = 'canopy.theme';
const DARK_CLASS = 'pf-v6-theme-dark';

function initialDark(): boolean {
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    if (stored) return stored === 'dark';
  } catch {
    // Storage unavailable: follow the system.
  }
  return globalThis.matchMedia?.('(prefers-color-scheme: dark)').matches ?? false;
}

export function applyInitialTheme(): void {
  document.documentElement.classList.toggle(DARK_CLASS, initialDark());
}

export function useDarkTheme(): [boolean, (dark: boolean) => void] {
  const [dark, setDark] = useState(() => document.documentElement.classList.contains(DARK_CLASS));
  const set = useCallback((value: boolean) => {
    document.documentElement.classList.toggle(DARK_CLASS, value);
    try {
      localStorage.setItem(STORAGE_KEY, value ? 'dark' : 'light');
    } catch {
      // Not persisted.
    }
    setDark(value);
  }, []);
  return [dark, set];
}
