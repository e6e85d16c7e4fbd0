/**
 * The browser page opened without its token (or with one the daemon no longer takes):
 * how to get the right address, instead of the API's JSON 401.
 */
export function NoToken() {
  return (
    <main className="no-token">
      <h1>Berth</h1>
      <h2>This page needs the address Berth printed</h2>
      <p>
        This is the browser face of Berth’s daemon. It can mount and unmount folders, so it only answers the address the daemon printed when it
        started: that address ends in <code>#token=…</code>, a key that stays in this tab and is never sent to other sites.
      </p>
      <ol>
        <li>
          Start the daemon with its browser page: <code>berth daemon --ui 127.0.0.1:5050</code>, or <code>npm start</code> in Berth’s folder.
        </li>
        <li>
          Open the address it prints, which looks like <code>Berth in your browser: http://127.0.0.1:5050/#token=…</code>
        </li>
      </ol>
      <p className="muted">
        If the daemon already runs, its first lines (or its log) hold the address. A daemon started again keeps its token until you log out.
      </p>
    </main>
  );
}
