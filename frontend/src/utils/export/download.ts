/** Saves `data` as a file through a temporary object URL (no server round trip). */
export function downloadBlob(data: Blob, fileName: string): void {
  const url = URL.createObjectURL(data)
  const a = document.createElement('a')
  a.href = url
  a.download = fileName
  a.rel = 'noopener'
  a.style.display = 'none'
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}

export function downloadText(text: string, fileName: string, type = 'text/markdown;charset=utf-8'): void {
  downloadBlob(new Blob([text], { type }), fileName)
}
