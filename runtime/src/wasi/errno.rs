//! WASI preview1 error numbers (`$errno` in the witx), and how host I/O
//! errors map onto them.

use std::io;

use rustix::io::Errno as Os;

macro_rules! errnos {
    ($($name:ident = $value:literal,)*) => {
        /// A WASI preview1 error number, as returned to the guest.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u16)]
        pub enum Errno { $($name = $value,)* }
    };
}

errnos! {
    Success = 0, TooBig = 1, Acces = 2, AddrInUse = 3, AddrNotAvail = 4, AfNoSupport = 5,
    Again = 6, Already = 7, Badf = 8, BadMsg = 9, Busy = 10, Canceled = 11, Child = 12,
    ConnAborted = 13, ConnRefused = 14, ConnReset = 15, Deadlk = 16, DestAddrReq = 17,
    Dom = 18, Dquot = 19, Exist = 20, Fault = 21, Fbig = 22, HostUnreach = 23, Idrm = 24,
    Ilseq = 25, InProgress = 26, Intr = 27, Inval = 28, Io = 29, IsConn = 30, IsDir = 31,
    Loop = 32, Mfile = 33, Mlink = 34, MsgSize = 35, Multihop = 36, NameTooLong = 37,
    NetDown = 38, NetReset = 39, NetUnreach = 40, Nfile = 41, NoBufs = 42, NoDev = 43,
    NoEnt = 44, NoExec = 45, NoLck = 46, NoLink = 47, NoMem = 48, NoMsg = 49,
    NoProtoOpt = 50, NoSpc = 51, NoSys = 52, NotConn = 53, NotDir = 54, NotEmpty = 55,
    NotRecoverable = 56, NotSock = 57, NotSup = 58, NotTy = 59, Nxio = 60, Overflow = 61,
    OwnerDead = 62, Perm = 63, Pipe = 64, Proto = 65, ProtoNoSupport = 66, ProtoType = 67,
    Range = 68, Rofs = 69, Spipe = 70, Srch = 71, Stale = 72, TimedOut = 73, TxtBsy = 74,
    Xdev = 75, NotCapable = 76,
}

impl Errno {
    pub fn raw(self) -> u16 {
        self as u16
    }
}

/// Host errno -> WASI errno. Linux numbers differ from WASI's, so each one
/// is named; anything unlisted becomes EIO.
const OS_ERRNOS: &[(Os, Errno)] = &[
    (Os::TOOBIG, Errno::TooBig),
    (Os::ACCESS, Errno::Acces),
    (Os::ADDRINUSE, Errno::AddrInUse),
    (Os::ADDRNOTAVAIL, Errno::AddrNotAvail),
    (Os::AFNOSUPPORT, Errno::AfNoSupport),
    (Os::AGAIN, Errno::Again),
    (Os::ALREADY, Errno::Already),
    (Os::BADF, Errno::Badf),
    (Os::BADMSG, Errno::BadMsg),
    (Os::BUSY, Errno::Busy),
    (Os::CANCELED, Errno::Canceled),
    (Os::CHILD, Errno::Child),
    (Os::CONNABORTED, Errno::ConnAborted),
    (Os::CONNREFUSED, Errno::ConnRefused),
    (Os::CONNRESET, Errno::ConnReset),
    (Os::DEADLK, Errno::Deadlk),
    (Os::DESTADDRREQ, Errno::DestAddrReq),
    (Os::DOM, Errno::Dom),
    (Os::DQUOT, Errno::Dquot),
    (Os::EXIST, Errno::Exist),
    (Os::FAULT, Errno::Fault),
    (Os::FBIG, Errno::Fbig),
    (Os::HOSTUNREACH, Errno::HostUnreach),
    (Os::IDRM, Errno::Idrm),
    (Os::ILSEQ, Errno::Ilseq),
    (Os::INPROGRESS, Errno::InProgress),
    (Os::INTR, Errno::Intr),
    (Os::INVAL, Errno::Inval),
    (Os::IO, Errno::Io),
    (Os::ISCONN, Errno::IsConn),
    (Os::ISDIR, Errno::IsDir),
    (Os::LOOP, Errno::Loop),
    (Os::MFILE, Errno::Mfile),
    (Os::MLINK, Errno::Mlink),
    (Os::MSGSIZE, Errno::MsgSize),
    (Os::MULTIHOP, Errno::Multihop),
    (Os::NAMETOOLONG, Errno::NameTooLong),
    (Os::NETDOWN, Errno::NetDown),
    (Os::NETRESET, Errno::NetReset),
    (Os::NETUNREACH, Errno::NetUnreach),
    (Os::NFILE, Errno::Nfile),
    (Os::NOBUFS, Errno::NoBufs),
    (Os::NODEV, Errno::NoDev),
    (Os::NOENT, Errno::NoEnt),
    (Os::NOEXEC, Errno::NoExec),
    (Os::NOLCK, Errno::NoLck),
    (Os::NOLINK, Errno::NoLink),
    (Os::NOMEM, Errno::NoMem),
    (Os::NOMSG, Errno::NoMsg),
    (Os::NOPROTOOPT, Errno::NoProtoOpt),
    (Os::NOSPC, Errno::NoSpc),
    (Os::NOSYS, Errno::NoSys),
    (Os::NOTCONN, Errno::NotConn),
    (Os::NOTDIR, Errno::NotDir),
    (Os::NOTEMPTY, Errno::NotEmpty),
    (Os::NOTRECOVERABLE, Errno::NotRecoverable),
    (Os::NOTSOCK, Errno::NotSock),
    (Os::NOTSUP, Errno::NotSup),
    (Os::OPNOTSUPP, Errno::NotSup),
    (Os::NOTTY, Errno::NotTy),
    (Os::NXIO, Errno::Nxio),
    (Os::OVERFLOW, Errno::Overflow),
    (Os::OWNERDEAD, Errno::OwnerDead),
    (Os::PERM, Errno::Perm),
    (Os::PIPE, Errno::Pipe),
    (Os::PROTO, Errno::Proto),
    (Os::PROTONOSUPPORT, Errno::ProtoNoSupport),
    (Os::PROTOTYPE, Errno::ProtoType),
    (Os::RANGE, Errno::Range),
    (Os::ROFS, Errno::Rofs),
    (Os::SPIPE, Errno::Spipe),
    (Os::SRCH, Errno::Srch),
    (Os::STALE, Errno::Stale),
    (Os::TIMEDOUT, Errno::TimedOut),
    (Os::TXTBSY, Errno::TxtBsy),
    (Os::XDEV, Errno::Xdev),
];

impl From<Os> for Errno {
    fn from(e: Os) -> Self {
        OS_ERRNOS
            .iter()
            .find(|(os, _)| *os == e)
            .map_or(Errno::Io, |&(_, w)| w)
    }
}

impl From<io::Error> for Errno {
    fn from(e: io::Error) -> Self {
        if let Some(code) = e.raw_os_error() {
            return Os::from_raw_os_error(code).into();
        }
        // Errors made in user space, chiefly cap-std's: a path that would
        // leave the sandbox is reported as PermissionDenied without an OS
        // errno, which WASI calls "not capable".
        match e.kind() {
            io::ErrorKind::PermissionDenied => Errno::NotCapable,
            io::ErrorKind::NotFound => Errno::NoEnt,
            io::ErrorKind::AlreadyExists => Errno::Exist,
            io::ErrorKind::InvalidInput => Errno::Inval,
            io::ErrorKind::InvalidFilename => Errno::Inval,
            io::ErrorKind::NotADirectory => Errno::NotDir,
            io::ErrorKind::IsADirectory => Errno::IsDir,
            io::ErrorKind::DirectoryNotEmpty => Errno::NotEmpty,
            io::ErrorKind::Unsupported => Errno::NotSup,
            io::ErrorKind::WouldBlock => Errno::Again,
            io::ErrorKind::Interrupted => Errno::Intr,
            io::ErrorKind::OutOfMemory => Errno::NoMem,
            io::ErrorKind::CrossesDevices => Errno::Xdev,
            io::ErrorKind::ReadOnlyFilesystem => Errno::Rofs,
            _ => Errno::Io,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_errors_map_to_wasi_numbers() {
        assert_eq!(Errno::from(io::Error::from_raw_os_error(2)), Errno::NoEnt);
        assert_eq!(Errno::from(Os::NOTEMPTY), Errno::NotEmpty);
        assert_eq!(Errno::Fault.raw(), 21);
        assert_eq!(Errno::NotCapable.raw(), 76);
        let escape = io::Error::new(io::ErrorKind::PermissionDenied, "outside");
        assert_eq!(Errno::from(escape), Errno::NotCapable);
    }
}
