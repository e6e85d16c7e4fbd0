import type { MountStatus } from '../../src-shared/mountState.ts';
import { stateChip } from '../lib/format.ts';
import { useNow } from '../lib/useNow.ts';

/** A mount's state in words and colour (UI.md "States"); a failed auto-mount counts down to its retry. */
export function StateChip({ mount }: { mount: MountStatus }) {
  const now = useNow(mount.state === 'failed' && mount.nextRetryAt !== undefined);
  const chip = stateChip(mount, now);
  return (
    <span className={`chip tone-${chip.tone}`} data-state={mount.state}>
      {chip.tone === 'busy' ? <span className="spinner" aria-hidden="true" /> : <span className="dot" aria-hidden="true" />}
      {chip.text}
    </span>
  );
}
