import type { MountStatus } from '../src-shared/mountState.ts';
import { MountTable } from './components/MountTable.tsx';

/** The whole window: a header and the live mount table. */
export function App() {
  // The service team wires this to the mount store (zustand) fed by the MountApi bridge.
  const mounts: MountStatus[] = [];
  return (
    <main className="app">
      <header className="app-header">
        <h1>Berth</h1>
      </header>
      <MountTable mounts={mounts} />
    </main>
  );
}
