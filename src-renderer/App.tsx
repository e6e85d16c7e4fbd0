import { useEffect } from 'react';
import { ActionsMenu } from './components/ActionsMenu.tsx';
import { AddMountDialog } from './components/AddMountDialog.tsx';
import { ConnectionBanner } from './components/ConnectionBanner.tsx';
import { DetailsPane } from './components/DetailsPane.tsx';
import { DropOverlay } from './components/DropOverlay.tsx';
import { Header } from './components/Header.tsx';
import { MountTable } from './components/MountTable.tsx';
import { Notices } from './components/Notices.tsx';
import { RemoveDialog } from './components/RemoveDialog.tsx';
import { SettingsDialog } from './components/SettingsDialog.tsx';
import { Toasts } from './components/Toasts.tsx';
import { closeDetails, openDialog } from './store/actions.ts';
import { useBerth } from './store/index.ts';

/** Ctrl/Cmd+N adds, Ctrl/Cmd+, opens settings, Esc closes the details pane (dialogs and menus close themselves). */
function useGlobalKeys(): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const s = useBerth.getState();
      const mod = e.ctrlKey || e.metaKey;
      if (mod && !e.shiftKey && !e.altKey && (e.key === 'n' || e.key === 'N')) {
        if (s.dialog) return;
        e.preventDefault();
        openDialog({ kind: 'add' });
      } else if (mod && e.key === ',') {
        if (s.dialog) return;
        e.preventDefault();
        openDialog({ kind: 'settings' });
      } else if (e.key === 'Escape' && !s.dialog && !s.menu && s.selectedId !== undefined) {
        closeDetails();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}

/** The open dialog, if any. */
function Dialogs() {
  const dialog = useBerth((s) => s.dialog);
  if (!dialog) return null;
  switch (dialog.kind) {
    case 'add':
      return <AddMountDialog key={`add:${dialog.source ?? ''}`} {...(dialog.source ? { source: dialog.source } : {})} />;
    case 'edit':
      return <AddMountDialog key={`edit:${dialog.id}`} editId={dialog.id} />;
    case 'remove':
      return <RemoveDialog id={dialog.id} />;
    case 'settings':
      return <SettingsDialog />;
    default: {
      const never: never = dialog;
      return never;
    }
  }
}

/** The window: header, banners, the live table with the details pane, and what floats above them. */
export function App() {
  useGlobalKeys();
  const selectedId = useBerth((s) => s.selectedId);
  const offline = useBerth((s) => s.connection.state === 'lost');
  return (
    <div className={`app${offline ? ' offline' : ''}`}>
      <Header />
      <ConnectionBanner />
      <Notices />
      <main className={`content${selectedId ? ' with-details' : ''}`}>
        <MountTable />
        {selectedId && <DetailsPane id={selectedId} />}
      </main>
      <footer className="footer-hint">Drop a CID or ipfs:// link anywhere to mount it.</footer>
      <ActionsMenu />
      <Dialogs />
      <DropOverlay />
      <Toasts />
    </div>
  );
}
