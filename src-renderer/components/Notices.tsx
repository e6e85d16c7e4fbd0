import { useBerth } from '../store/index.ts';
import { dismissNotice } from '../store/commands.ts';

/** What the service says the user must see (a damaged mounts.json moved aside, a mount that failed at start), until dismissed. */
export function Notices() {
  const notices = useBerth((s) => s.notices);
  if (notices.length === 0) return null;
  return (
    <section className="notices" aria-label="Notices">
      {notices.map((n) => (
        <div key={n.id} className={`notice tone-${n.level === 'error' ? 'bad' : n.level === 'warning' ? 'warn' : 'ok'}`}>
          <p id={`notice-${n.id}`}>
            <time dateTime={n.time}>{new Date(n.time).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}</time> {n.message}
          </p>
          <button type="button" aria-describedby={`notice-${n.id}`} onClick={() => void dismissNotice(n.id)}>
            Dismiss
          </button>
        </div>
      ))}
    </section>
  );
}
