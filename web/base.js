// Served by vigil at "/" with its assets under "/static/"; opened from
// /static/index.html the assets are next to the page already.
if (location.protocol !== 'file:' && !/\/static\//.test(location.pathname)) {
  document.write('<base href="/static/">');
}
