/**
 * Stop the contract server (its pid was left in the environment by global-setup.js); show any
 * traceback from its log (a 500 in a contract test is explained there), then remove the log.
 */
const fs = require('fs')

async function stop(pid) {
  try {
    process.kill(pid, 'SIGTERM')
  } catch (err) {
    return // already gone
  }
  for (let i = 0; i < 50; i += 1) {
    try { process.kill(pid, 0) } catch (err) { return }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  process.kill(pid, 'SIGKILL')
}

module.exports = async () => {
  const pid = Number(process.env.LINLI_SERVER_PID)
  if (pid) await stop(pid)
  const log = process.env.LINLI_SERVER_LOG
  if (!log || !fs.existsSync(log)) return
  const text = fs.readFileSync(log, 'utf8')
  const at = text.indexOf('Traceback')
  if (at >= 0) console.log(`\nThe contract server logged errors (${log}):\n${text.slice(at, at + 20000)}`)
  else fs.unlinkSync(log)
}
