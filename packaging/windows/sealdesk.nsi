; SealDesk installer for Windows (amd64), built on Linux with Debian's makensis by
; scripts/package.sh:
;   makensis -DVERSION=0.1.0 -DSRCDIR=<folder with the signed exes, icon, pdfium-cache>
;            -DOUTFILE=<setup.exe> [-DSIGNCMD=<command that signs "%1" in place>] sealdesk.nsi
; Per-machine: installs to Program Files for all users (administrator rights), Start-menu entry
; for all users, .ofd files open with SealDesk, SealDesk is offered under "Open with" for .pdf
; (the user's PDF reader stays the default), uninstaller with an Apps & Features entry.
; The per-user caches (%LOCALAPPDATA%\sealdesk) are each user's own and safe to delete: the
; uninstaller leaves them, as it cannot reach other users' profiles.

Unicode true
ManifestDPIAware true
RequestExecutionLevel admin
SetCompressor /SOLID lzma

!ifndef VERSION
  !error "VERSION is not defined (-DVERSION=...)"
!endif
!ifndef SRCDIR
  !error "SRCDIR is not defined (-DSRCDIR=...)"
!endif
!ifndef OUTFILE
  !define OUTFILE "SealDesk-${VERSION}-windows-amd64-setup.exe"
!endif
!ifdef SIGNCMD
  ; Sign the uninstaller before it is packed into the installer (NSIS >= 3.08).
  !uninstfinalize '${SIGNCMD} "%1"' = 0
!endif

!define APPNAME  "SealDesk"
!define APPID    "cn.sealdesk.desktop"
!define UNINSTKEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${APPID}"
!define OFDPROGID "SealDesk.ofd"
!define PDFPROGID "SealDesk.pdf"

Name "${APPNAME}"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\${APPNAME}"
InstallDirRegKey HKLM "${UNINSTKEY}" "InstallLocation"
BrandingText "${APPNAME} ${VERSION}"

VIProductVersion "${VERSION}.0"
VIAddVersionKey /LANG=0 "ProductName" "${APPNAME}"
VIAddVersionKey /LANG=0 "FileDescription" "${APPNAME} installer"
VIAddVersionKey /LANG=0 "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=0 "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=0 "CompanyName" "${APPNAME}"

!include "MUI2.nsh"
!include "x64.nsh"

!define MUI_ICON "${SRCDIR}\sealdesk.ico"
!define MUI_UNICON "${SRCDIR}\sealdesk.ico"
!define MUI_ABORTWARNING
!define MUI_FINISHPAGE_RUN "$INSTDIR\sealdesk.exe"

!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES

; Simplified Chinese first: the installer speaks it unless Windows runs in another language.
!insertmacro MUI_LANGUAGE "SimpChinese"
!insertmacro MUI_LANGUAGE "English"

LangString DescOFD ${LANG_SIMPCHINESE} "OFD 版式文件"
LangString DescOFD ${LANG_ENGLISH} "OFD document"
LangString OpenWith ${LANG_SIMPCHINESE} "用 SealDesk 打开"
LangString OpenWith ${LANG_ENGLISH} "Open with SealDesk"
LangString Need64 ${LANG_SIMPCHINESE} "SealDesk 需要 64 位 Windows 10 或更新版本。"
LangString Need64 ${LANG_ENGLISH} "SealDesk needs 64-bit Windows 10 or later."

Function .onInit
  ${IfNot} ${RunningX64}
    MessageBox MB_OK|MB_ICONSTOP "$(Need64)"
    Abort
  ${EndIf}
  SetRegView 64
  SetShellVarContext all
FunctionEnd

Function un.onInit
  SetRegView 64
  SetShellVarContext all
FunctionEnd

Section "SealDesk" SecMain
  SectionIn RO
  SetOutPath "$INSTDIR"
  File "${SRCDIR}\sealdesk.exe"
  File "${SRCDIR}\sealctl.exe"
  File "${SRCDIR}\sealhub.exe"
  File "${SRCDIR}\sealdesk.ico"
  ; PDFium's machine code, compiled by `make package`: each user's first document opens
  ; without the 3-second compile (document/pdfium/seed.go copies it to the user's cache).
  File /nonfatal /r "${SRCDIR}\pdfium-cache"

  CreateShortCut "$SMPROGRAMS\${APPNAME}.lnk" "$INSTDIR\sealdesk.exe" "" "$INSTDIR\sealdesk.ico" 0

  ; .ofd opens with SealDesk.
  WriteRegStr HKLM "Software\Classes\.ofd" "" "${OFDPROGID}"
  WriteRegStr HKLM "Software\Classes\.ofd" "Content Type" "application/ofd"
  WriteRegStr HKLM "Software\Classes\.ofd\OpenWithProgids" "${OFDPROGID}" ""
  WriteRegStr HKLM "Software\Classes\${OFDPROGID}" "" "$(DescOFD)"
  WriteRegStr HKLM "Software\Classes\${OFDPROGID}\DefaultIcon" "" "$INSTDIR\sealdesk.exe,0"
  WriteRegStr HKLM "Software\Classes\${OFDPROGID}\shell\open\command" "" '"$INSTDIR\sealdesk.exe" "%1"'
  ; .pdf: offered under "Open with", never taken over.
  WriteRegStr HKLM "Software\Classes\.pdf\OpenWithProgids" "${PDFPROGID}" ""
  WriteRegStr HKLM "Software\Classes\${PDFPROGID}" "" "PDF"
  WriteRegStr HKLM "Software\Classes\${PDFPROGID}\DefaultIcon" "" "$INSTDIR\sealdesk.exe,0"
  WriteRegStr HKLM "Software\Classes\${PDFPROGID}\shell\open" "" "$(OpenWith)"
  WriteRegStr HKLM "Software\Classes\${PDFPROGID}\shell\open\command" "" '"$INSTDIR\sealdesk.exe" "%1"'
  WriteRegStr HKLM "Software\Classes\Applications\sealdesk.exe" "FriendlyAppName" "${APPNAME}"
  WriteRegStr HKLM "Software\Classes\Applications\sealdesk.exe\SupportedTypes" ".ofd" ""
  WriteRegStr HKLM "Software\Classes\Applications\sealdesk.exe\SupportedTypes" ".pdf" ""
  WriteRegStr HKLM "Software\Classes\Applications\sealdesk.exe\shell\open\command" "" '"$INSTDIR\sealdesk.exe" "%1"'
  ; SHCNE_ASSOCCHANGED: Explorer re-reads the associations now, not after a log-off.
  System::Call 'shell32::SHChangeNotify(i 0x08000000, i 0, p 0, p 0)'

  WriteUninstaller "$INSTDIR\uninstall.exe"
  WriteRegStr HKLM "${UNINSTKEY}" "DisplayName" "${APPNAME}"
  WriteRegStr HKLM "${UNINSTKEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINSTKEY}" "Publisher" "${APPNAME}"
  WriteRegStr HKLM "${UNINSTKEY}" "DisplayIcon" "$INSTDIR\sealdesk.exe,0"
  WriteRegStr HKLM "${UNINSTKEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINSTKEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKLM "${UNINSTKEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKLM "${UNINSTKEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINSTKEY}" "NoRepair" 1
SectionEnd

Section "Uninstall"
  Delete "$SMPROGRAMS\${APPNAME}.lnk"
  Delete "$INSTDIR\sealdesk.exe"
  Delete "$INSTDIR\sealctl.exe"
  Delete "$INSTDIR\sealhub.exe"
  Delete "$INSTDIR\sealdesk.ico"
  RMDir /r "$INSTDIR\pdfium-cache"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"

  ; Give .ofd back only if it is still ours (another program may have taken it since).
  ReadRegStr $0 HKLM "Software\Classes\.ofd" ""
  StrCmp $0 "${OFDPROGID}" 0 ofd_not_ours
    DeleteRegValue HKLM "Software\Classes\.ofd" ""
    DeleteRegValue HKLM "Software\Classes\.ofd" "Content Type"
  ofd_not_ours:
  DeleteRegValue HKLM "Software\Classes\.ofd\OpenWithProgids" "${OFDPROGID}"
  DeleteRegKey /ifempty HKLM "Software\Classes\.ofd\OpenWithProgids"
  DeleteRegKey /ifempty HKLM "Software\Classes\.ofd"
  DeleteRegKey HKLM "Software\Classes\${OFDPROGID}"
  DeleteRegValue HKLM "Software\Classes\.pdf\OpenWithProgids" "${PDFPROGID}"
  DeleteRegKey HKLM "Software\Classes\${PDFPROGID}"
  DeleteRegKey HKLM "Software\Classes\Applications\sealdesk.exe"
  DeleteRegKey HKLM "${UNINSTKEY}"
  System::Call 'shell32::SHChangeNotify(i 0x08000000, i 0, p 0, p 0)'
SectionEnd
