import type { ReactNode } from 'react';

/**
 * A labelled field with its help line and its message. The control gets `id`; the
 * message (in the shared schema's words) is tied to it with aria-describedby.
 */
export function Field({ id, label, error, help, children, className }: { id: string; label: string; error?: string; help?: ReactNode; children: ReactNode; className?: string }) {
  return (
    <div className={`field${error ? ' invalid' : ''}${className ? ` ${className}` : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children}
      {help && !error && (
        <div className="field-help" id={`${id}-help`}>
          {help}
        </div>
      )}
      {error && (
        <div className="field-error" id={`${id}-error`}>
          {error}
        </div>
      )}
    </div>
  );
}

/** aria-* of a control inside Field. */
export function describedBy(id: string, error: string | undefined, hasHelp: boolean): { 'aria-invalid'?: true; 'aria-describedby'?: string } {
  if (error) return { 'aria-invalid': true, 'aria-describedby': `${id}-error` };
  return hasHelp ? { 'aria-describedby': `${id}-help` } : {};
}
