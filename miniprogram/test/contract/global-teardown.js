/** Stop the contract server (its pid was left in the environment by global-setup.js). */
module.exports = async () => {
  const pid = Number(process.env.LINLI_SERVER_PID)
  if (!pid) return
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
