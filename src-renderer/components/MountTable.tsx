import type { MountStatus } from '../../src-shared/mountState.ts';
import { mountTarget } from '../../src-shared/mountSpec.ts';

/** What a guest shows in the "Source" column. */
function sourceOf(m: MountStatus): string {
  const g = m.spec.guest;
  switch (g.kind) {
    case 'ipfs':
      return g.root ?? '/ipfs';
    case 'ipns':
      return g.name ? `/ipns/${g.name}` : '/ipns';
    case 'pinfs':
      return 'pins';
    case 'keyfs':
      return 'keys';
    case 'mfs':
      return `MFS ${g.path}`;
    case 'nfs':
      return `${g.server}:${g.export}`;
    case 'local':
      return g.path;
    default: {
      const never: never = g;
      return String(never);
    }
  }
}

/** The live mount table: one row per mount with its source, target and state. */
export function MountTable({ mounts }: { mounts: readonly MountStatus[] }) {
  if (mounts.length === 0) {
    return (
      <p className="mount-table-empty" role="status">
        No mounts yet.
      </p>
    );
  }
  return (
    <table className="mount-table">
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Source</th>
          <th scope="col">Mounted at</th>
          <th scope="col">State</th>
        </tr>
      </thead>
      <tbody>
        {mounts.map((m) => (
          <tr key={m.id} data-state={m.state}>
            <td>{m.spec.name ?? m.id}</td>
            <td>
              <span className="kind">{m.spec.guest.kind}</span> {sourceOf(m)}
            </td>
            <td>{m.address ?? mountTarget(m.spec.host)}</td>
            <td title={m.error?.message}>{m.state}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
