import { create } from 'zustand';
import { subscribeWithSelector } from 'zustand/middleware';
import { initialConnection, type ConnectionSlice } from './connection.ts';
import { initialMounts, type MountsSlice } from './mounts.ts';
import { initialNotices, type NoticesSlice } from './notices.ts';
import { initialSettings, type SettingsSlice } from './settings.ts';
import { initialUi, type UiSlice } from './ui.ts';
import { homeOf } from '../lib/format.ts';

// The renderer's one store (STYLE.md habit 9), made of slices. Slices hold plain data and
// pure transitions; actions are plain functions (store/actions.ts, store/commands.ts) and
// service events call them (store/events.ts). Components select narrowly.

/** Everything the window shows. */
export type State = MountsSlice & SettingsSlice & NoticesSlice & ConnectionSlice & UiSlice;

/** A fresh state (also what resetStore() restores). */
export function initialState(): State {
  return { ...initialMounts(), ...initialSettings(), ...initialNotices(), ...initialConnection(), ...initialUi() };
}

/** The store. */
export const useBerth = create<State>()(subscribeWithSelector(() => initialState()));

/** The home folder when the page can know it ("~" in paths), from the service's default mount folder. */
export function useHome(): string | undefined {
  return useBerth((s) => homeOf(s.info?.defaultMountFolder, s.settings?.mountFolder));
}

/** Back to a fresh state (between tests; before a page shows another bridge). */
export function resetStore(): void {
  useBerth.setState(initialState(), true);
}
