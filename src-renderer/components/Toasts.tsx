import { useBerth } from '../store/index.ts';
import { dismissToast } from '../store/actions.ts';

/** Short confirmations and errors at the bottom of the window; read out politely (role="status"). */
export function Toasts() {
  const toasts = useBerth((s) => s.toasts);
  return (
    <div className="toasts" role="status" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} className={`toast tone-${t.tone === 'error' ? 'bad' : 'ok'}`}>
          <div className="toast-body">
            <strong className="toast-title">{t.title}</strong>
            {t.text && <span className="toast-text">{t.text}</span>}
          </div>
          <button type="button" className="icon-button" aria-label="Dismiss" title="Dismiss" onClick={() => dismissToast(t.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
