/**
 * Start the Flask app (SQLite, fake WeChat) for the contract tests; its addresses go to the test
 * workers through the environment (LINLI_API, LINLI_WECHAT, LINLI_ADMIN). The server's log (its
 * stderr: requests and tracebacks) goes to a file named in LINLI_SERVER_LOG.
 */
const { spawn } = require('child_process')
const fs = require('fs')
const os = require('os')
const path = require('path')

const ROOT = path.resolve(__dirname, '../../..')

module.exports = async () => {
  const python = process.env.LINLI_PYTHON || path.join(ROOT, '.venv/bin/python')
  const log = path.join(os.tmpdir(), `linli-contract-${process.pid}.log`)
  const logFd = fs.openSync(log, 'w')
  const child = spawn(python, [path.join(__dirname, 'serve.py')], { cwd: ROOT, stdio: ['ignore', 'pipe', logFd] })
  fs.closeSync(logFd)
  const errors = () => fs.readFileSync(log, 'utf8')
  const line = await new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`the contract server did not start:\n${errors()}`)), 60000)
    child.stdout.on('data', (chunk) => {
      out += chunk
      const end = out.indexOf('\n')
      if (end >= 0) { clearTimeout(timer); resolve(out.slice(0, end)) }
    })
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`the contract server exited (${code}):\n${errors()}`)) })
  })
  const info = JSON.parse(line)
  process.env.LINLI_API = info.api
  process.env.LINLI_WECHAT = info.wechat
  process.env.LINLI_ADMIN = JSON.stringify(info.admin)
  process.env.LINLI_SERVER_PID = String(child.pid)
  process.env.LINLI_SERVER_LOG = log
  child.removeAllListeners('exit')
  child.unref()
  child.stdout.destroy()
}
