import { useBerth } from '../store/index.ts';
import { secondsUntil } from '../lib/format.ts';
import { useNow } from '../lib/useNow.ts';

/** Shown while the page has lost the service (the browser face when the daemon stops or restarts). */
export function ConnectionBanner() {
  const connection = useBerth((s) => s.connection);
  const now = useNow(connection.state === 'lost', 500);
  if (connection.state !== 'lost') return null;
  const wait = connection.retryAt ? secondsUntil(connection.retryAt, now) : undefined;
  return (
    <div className="banner tone-bad" role="alert">
      <strong>Lost the connection to Berth.</strong> {connection.message}{' '}
      {wait !== undefined && <span className="banner-retry">{wait > 0 ? `Trying again in ${wait} s.` : 'Trying again…'}</span>}
    </div>
  );
}
